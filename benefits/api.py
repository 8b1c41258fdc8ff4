"""The payout-roster API: /api/rosters/ (issue 4). Views come from socialsec.rosters.api."""

from __future__ import annotations

from benefits import services
from benefits.models import PayoutLine, PayoutRoster
from socialsec.rosters import api as rosters_api
from socialsec.rosters.choices import RosterStep
from socialsec.rosters.selectors import ROSTER_RELATED

_VIEW = "benefits.view_payoutroster"
_ROSTERS = PayoutRoster.objects.select_related(*ROSTER_RELATED)


class PayoutRosterListApi(rosters_api.RosterListApi):
    """Payout rosters in the caller's townships (county rosters for county-wide staff), newest first."""

    queryset = _ROSTERS
    required_permission = _VIEW


class PayoutRosterDetailApi(rosters_api.RosterDetailApi):
    """One payout roster: status, totals, digest, posts, timeline and the caller's next steps."""

    queryset = _ROSTERS
    required_permission = _VIEW


class PayoutRosterLinesApi(rosters_api.RosterLinesApi):
    """The lines of one payout roster, in line order, IDs and accounts masked."""

    queryset = PayoutLine.objects.select_related("person")
    roster_queryset = PayoutRoster.objects.all()
    required_permission = _VIEW


class PayoutRosterStepApi(rosters_api.RosterStepApi):
    """A step on a payout roster."""

    queryset = _ROSTERS
    take_step = staticmethod(services.payout_roster_take_step)


def _step(step: str, name: str, action: str | None) -> type[rosters_api.RosterStepApi]:
    permission = f"benefits.{action}_payoutroster" if action else _VIEW
    return rosters_api.step_view(PayoutRosterStepApi, step, name=name, permission=permission)


PayoutRosterSubmitApi = _step(RosterStep.SUBMIT, "PayoutRosterSubmitApi", "submit")
PayoutRosterCheckApi = _step(RosterStep.CHECK, "PayoutRosterCheckApi", "check")
PayoutRosterApproveApi = _step(RosterStep.APPROVE, "PayoutRosterApproveApi", "approve")
PayoutRosterPreparePaymentApi = _step(
    RosterStep.PREPARE_PAYMENT, "PayoutRosterPreparePaymentApi", "prepare_payment"
)
PayoutRosterPayApi = _step(RosterStep.PAY, "PayoutRosterPayApi", "pay")
# Returning takes the checker's or the approver's permission, by the roster's state: the service decides.
PayoutRosterReturnApi = _step(RosterStep.RETURN, "PayoutRosterReturnApi", None)
PayoutRosterCancelApi = _step(RosterStep.CANCEL, "PayoutRosterCancelApi", "submit")

STEP_VIEWS = {
    RosterStep.SUBMIT: PayoutRosterSubmitApi,
    RosterStep.CHECK: PayoutRosterCheckApi,
    RosterStep.APPROVE: PayoutRosterApproveApi,
    RosterStep.PREPARE_PAYMENT: PayoutRosterPreparePaymentApi,
    RosterStep.PAY: PayoutRosterPayApi,
    RosterStep.RETURN: PayoutRosterReturnApi,
    RosterStep.CANCEL: PayoutRosterCancelApi,
}
