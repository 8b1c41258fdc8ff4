"""Clerk pages of the payout rosters (花名册): the list with its inboxes, the roster page, the steps.

Every roster comes through visible_to (benefits.selectors, get_visible_or_404), so another
township's roster is a 404; every page needs benefits.view_payoutroster (403 otherwise). The
steps go through benefits.services, which decide role (403), state (409) and segregation of
duties (403); their refusals reach DomainErrorMiddleware and render as the project's error page.
The buttons a user sees come from the same `available_steps` the API answers with.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from benefits import selectors, services, views_finance
from benefits.choices import BenefitProgramme
from benefits.models import PayoutRoster
from enrollment.forms import BootstrapForm
from socialsec.core.choices import DivisionLevel
from socialsec.core.exceptions import InvalidInput, InvalidState
from socialsec.core.models import AdministrativeDivision
from socialsec.core.scoping import assigned_township_ids, can_see_whole_county, get_visible_or_404
from socialsec.core.views import positive_int, township_scoped, wants_partial
from socialsec.lib.months import parse_month
from socialsec.rosters.choices import RosterStatus, RosterStep
from socialsec.rosters.selectors import (
    ROSTER_RELATED,
    available_steps,
    line_page,
    roster_signatures,
    roster_timeline,
)

PAGE_SIZE = 50
LINE_PAGE_SIZE = 50
_VIEW = "benefits.view_payoutroster"
# The steps a page may POST as a button; the bank's receipt is a file upload (views_finance).
_PAGE_STEPS = (
    RosterStep.SUBMIT,
    RosterStep.CHECK,
    RosterStep.APPROVE,
    RosterStep.PREPARE_PAYMENT,
    RosterStep.PAY,
    RosterStep.RETURN,
    RosterStep.CANCEL,
)
_REASONED = (RosterStep.RETURN, RosterStep.CANCEL)


# --- Forms ---------------------------------------------------------------------------------------------


class StepForm(BootstrapForm):
    # Not required here: the services refuse a blank reason for return and cancel in one place.
    note = forms.CharField(label=gettext_lazy("Note"), max_length=2000, required=False)


class GenerateForm(BootstrapForm):
    programme = forms.ChoiceField(label=gettext_lazy("Programme"), choices=BenefitProgramme.choices)
    month = forms.CharField(
        label=gettext_lazy("Payout month"),
        max_length=7,
        widget=forms.TextInput(attrs={"placeholder": "YYYY-MM", "inputmode": "numeric"}),
    )
    # "" is the whole county, offered to county-wide staff only; the service refuses it to anyone else.
    township = forms.ChoiceField(label=gettext_lazy("Township"), required=False)

    def __init__(self, *args: Any, townships: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["township"].choices = townships

    def clean_month(self) -> dt.date:
        month = parse_month(self.cleaned_data["month"])
        if month is None:
            raise forms.ValidationError(_("Enter the month as YYYY-MM, e.g. 2025-10."))
        return month


def _township_choices(user: Any) -> list[tuple[str, str]]:
    """The user's townships; county-wide staff may also generate the county's roster ("")."""
    townships = AdministrativeDivision.objects.filter(level=DivisionLevel.TOWNSHIP).order_by("code")
    if can_see_whole_county(user):
        return [("", _("The whole county")), *((str(t.pk), t.name) for t in townships)]
    return [(str(t.pk), t.name) for t in townships.filter(pk__in=assigned_township_ids(user))]


# --- The list and its inboxes --------------------------------------------------------------------------


def _filters(request: HttpRequest) -> selectors.RosterFilters:
    status = request.GET.get("status", "")
    programme = request.GET.get("programme", "")
    inbox = request.GET.get("inbox", "")
    return selectors.RosterFilters(
        status=status if status in RosterStatus.values else "",
        programme=programme if programme in BenefitProgramme.values else "",
        period=parse_month(request.GET.get("month", "")),
        inbox=inbox if inbox in selectors.INBOXES else "",
    )


def _inboxes_for(user: Any) -> list[selectors.Inbox]:
    names = {name for role in user.role_names for name in selectors.ROLE_INBOXES.get(role, ())}
    return [inbox for name, inbox in selectors.INBOXES.items() if name in names]


@township_scoped
@login_required
@permission_required(_VIEW, raise_exception=True)
@require_safe
@vary_on_headers("HX-Request")
def roster_list(request: HttpRequest) -> HttpResponse:
    """Filters (state, programme, month, inbox); keyset pages of PAGE_SIZE on id, never a COUNT(*)."""
    filters = _filters(request)
    after = positive_int(request.GET.get("after"))
    page = list(
        selectors.payout_roster_search(user=request.user, filters=filters, after=after)[: PAGE_SIZE + 1]
    )
    next_after = page[PAGE_SIZE - 1].pk if len(page) > PAGE_SIZE else None
    query = {
        "status": filters.status,
        "programme": filters.programme,
        "month": f"{filters.period:%Y-%m}" if filters.period else "",
        "inbox": filters.inbox,
    }
    context = {
        "rosters": page[:PAGE_SIZE],
        "filters": query,
        "filter_query": urlencode({key: value for key, value in query.items() if value}),
        "inbox": selectors.INBOXES.get(filters.inbox),
        "inboxes": _inboxes_for(request.user),
        "statuses": RosterStatus.choices,
        "programmes": BenefitProgramme.choices,
        "after": after,
        "next_after": next_after,
        "may_generate": request.user.has_perm("benefits.add_payoutroster"),
    }
    template = "benefits/_roster_rows.html" if wants_partial(request) else "benefits/roster_list.html"
    return render(request, template, context)


# --- The roster page -----------------------------------------------------------------------------------


def _lines_context(roster: PayoutRoster, after: int | None) -> dict[str, Any]:
    rows, next_after = line_page(selectors.payout_roster_lines(roster, after=after), size=LINE_PAGE_SIZE)
    return {"roster": roster, "lines": rows, "lines_after": after, "lines_next_after": next_after}


def _roster_context(
    request: HttpRequest, roster: PayoutRoster, forms_by_step: dict[str, StepForm]
) -> dict[str, Any]:
    available = available_steps(roster, request.user)
    steps = [step for step in available if step in _PAGE_STEPS]
    return {
        **_lines_context(roster, None),
        **views_finance.finance_context(roster, request.user, available),
        "signatures": roster_signatures(roster),
        "timeline": roster_timeline(roster),
        "actions": [
            {
                "step": step,
                "label": RosterStep(step).label,
                "reasoned": step in _REASONED,
                "form": forms_by_step.get(step) or StepForm(prefix=step),
            }
            for step in steps
        ],
    }


def _roster_for_page(request: HttpRequest, pk: int) -> PayoutRoster:
    return get_visible_or_404(PayoutRoster.objects.select_related(*ROSTER_RELATED), request.user, pk=pk)


@township_scoped
@login_required
@permission_required(_VIEW, raise_exception=True)
@require_safe
@vary_on_headers("HX-Request", "HX-Target")
def roster_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Header, totals, digest, signature block, timeline, lines and this user's actions now.

    For finance: the bank file, the receipt upload and the lines the bank refused (views_finance).
    An htmx request for the next page of lines, or of failed lines, gets those rows only.
    """
    target = request.htmx.target if wants_partial(request) else None  # type: ignore[attr-defined]
    if target in ("next-lines", "next-failed-lines"):
        roster = get_visible_or_404(PayoutRoster.objects.all(), request.user, pk=pk)
        after = positive_int(request.GET.get("after"))
        if target == "next-failed-lines":
            context = views_finance.failed_lines_context(roster, after)
            return render(request, "benefits/_bank_failed_lines.html", context)
        return render(request, "benefits/_roster_lines.html", _lines_context(roster, after))
    roster = _roster_for_page(request, pk)
    return render(request, "benefits/roster_detail.html", _roster_context(request, roster, {}))


@township_scoped
@login_required
@permission_required(_VIEW, raise_exception=True)
@require_POST
def roster_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """Form → payout_roster_take_step → back to the roster page with a message.

    NotPermitted (403), NotVisible (404) and InvalidState (409) reach DomainErrorMiddleware; a
    missing reason (return, cancel) is shown next to the form, with status 400.
    """
    if step not in _PAGE_STEPS:
        raise Http404
    form = StepForm(request.POST, prefix=step)
    if form.is_valid():  # only the length can fail here; the service judges the rest
        try:
            services.payout_roster_take_step(
                roster_id=pk, step=step, by=request.user, note=form.cleaned_data["note"]
            )
        except InvalidInput as error:
            form.add_error("note", str(error.message))
        else:
            messages.success(request, _("Done: %(step)s.") % {"step": RosterStep(step).label})
            return redirect("benefits:roster_detail", pk=pk)
    roster = _roster_for_page(request, pk)
    context = _roster_context(request, roster, {step: form})
    return render(request, "benefits/roster_detail.html", context, status=400)


# --- Generation ----------------------------------------------------------------------------------------


@township_scoped  # the township choice lists only the clerk's townships; the service checks again
@login_required
@permission_required("benefits.add_payoutroster", raise_exception=True)
@require_http_methods(["GET", "HEAD", "POST"])
def roster_generate(request: HttpRequest) -> HttpResponse:
    """Form → benefits.services.roster_generate (one INSERT … SELECT over the paying entitlements)
    → the new draft's page. A month that has a roster already is 409 naming it."""
    form = GenerateForm(request.POST or None, townships=_township_choices(request.user))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                roster = services.roster_generate(
                    programme=data["programme"],
                    month=data["month"],
                    township_id=int(data["township"]) if data["township"] else None,
                    by=request.user,
                )
            except InvalidInput as error:
                field = {"period": "month", "township_id": "township"}.get(
                    error.details.get("field", ""), error.details.get("field")
                )
                form.add_error(field if field in form.fields else None, str(error.message))
            except InvalidState as error:  # a roster for this month exists already: its number is named
                form.add_error(None, str(error.message))
                status = 409
            else:
                messages.success(request, _("Roster %(number)s is generated.") % {"number": roster.number})
                return redirect("benefits:roster_detail", pk=roster.pk)
    return render(request, "benefits/roster_generate.html", {"form": form}, status=status)
