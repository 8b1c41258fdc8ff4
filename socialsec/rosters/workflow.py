"""Who may take which step on a roster: the posts, their permissions and segregation of duties.

DOMAIN §8.2 and E22: the maker (clerk), the checker (section chief), the approver (leader in
charge), the accountant who prepares the payment instruction and the cashier who releases it
are five different people. Each post's holder must differ from the holders of every earlier
post, which gives exactly checker ≠ maker; approver ∉ {maker, checker}; accountant ∉ {maker,
checker, approver}; cashier ∉ {maker, checker, approver, accountant}.

Permissions are per roster kind: `<app>.<action>_<model>` (RosterBase.Meta.default_permissions),
granted to roles in socialsec/core/roles.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from socialsec.rosters.choices import RosterStatus, RosterStep

if TYPE_CHECKING:
    from socialsec.core.models import User
    from socialsec.rosters.models import RosterBase


@dataclass(frozen=True)
class Post:
    """A post on a roster (制表人, 审核人, 审批人, 会计, 出纳) and the columns recording who and when."""

    name: str
    label: Promise
    by_field: str
    at_field: str


MAKER = Post("maker", pgettext_lazy("roster post", "maker"), "made_by", "made_at")
CHECKER = Post("checker", pgettext_lazy("roster post", "checker"), "checked_by", "checked_at")
APPROVER = Post("approver", pgettext_lazy("roster post", "approver"), "approved_by", "approved_at")
ACCOUNTANT = Post("accountant", pgettext_lazy("roster post", "accountant"), "prepared_by", "prepared_at")
CASHIER = Post("cashier", pgettext_lazy("roster post", "cashier"), "released_by", "released_at")
# In the order the steps are taken; each holder differs from all holders before (E22).
POSTS: tuple[Post, ...] = (MAKER, CHECKER, APPROVER, ACCOUNTANT, CASHIER)
# Records the bank's receipt: either finance post, never one of the business posts.
FINANCE = Post("finance", pgettext_lazy("roster post", "finance"), "settled_by", "settled_at")


@dataclass(frozen=True)
class Step:
    """One business step: the transition method on the model, the post taking it, the permission.

    `post` is the post the actor takes (or acts in, for return and cancel); `by_field` records
    who took the step, so the same person repeating it is recognised as a no-op.
    """

    name: str
    method: str
    permission: str
    post: Post
    by_field: str
    done_statuses: tuple[str, ...]
    verifies_digest: bool = True


STEPS: dict[str, Step] = {
    step.name: step
    for step in (
        Step(RosterStep.SUBMIT, "submit", "submit", MAKER, "made_by", (RosterStatus.SUBMITTED,), False),
        Step(RosterStep.CHECK, "mark_checked", "check", CHECKER, "checked_by", (RosterStatus.CHECKED,)),
        Step(RosterStep.APPROVE, "approve", "approve", APPROVER, "approved_by", (RosterStatus.APPROVED,)),
        Step(
            RosterStep.PREPARE_PAYMENT,
            "prepare_payment",
            "prepare_payment",
            ACCOUNTANT,
            "prepared_by",
            (RosterStatus.APPROVED,),
        ),
        Step(RosterStep.PAY, "release_payment", "pay", CASHIER, "released_by", (RosterStatus.PAYING,)),
        # The receipt is recorded by finance (either post), never by the business side.
        Step(
            RosterStep.BANK_RECEIPT,
            "record_bank_receipt",
            "record_bank_receipt",
            FINANCE,
            "settled_by",
            (RosterStatus.PAID, RosterStatus.PARTIALLY_PAID),
        ),
        # Returning is the checker's (from SUBMITTED) or the approver's (from CHECKED) decision.
        Step(
            RosterStep.RETURN,
            "return_to_draft",
            "check",
            CHECKER,
            "returned_by",
            (RosterStatus.DRAFT,),
            False,
        ),
        Step(RosterStep.CANCEL, "cancel", "submit", MAKER, "cancelled_by", (RosterStatus.CANCELLED,), False),
    )
}
STEP_BY_METHOD = {step.method: step for step in STEPS.values()}


def permission_name(model: type[RosterBase] | RosterBase, action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def acting_post(roster: RosterBase, step: Step) -> tuple[Post, str]:
    """The post (and its permission action) the actor holds for this step in the roster's state."""
    if step.name == RosterStep.RETURN and roster.status == RosterStatus.CHECKED:
        return APPROVER, "approve"
    return step.post, step.permission


def _earlier_posts(roster: RosterBase, step: Step, post: Post) -> tuple[Post, ...]:
    if post is FINANCE:  # business and finance stay apart (DOMAIN §8.2)
        return (MAKER, CHECKER, APPROVER)
    if step.name == RosterStep.CANCEL:
        return ()
    return POSTS[: POSTS.index(post)]


@dataclass(frozen=True)
class Refusal:
    """Why a user may not take a step: `rule` is machine-readable, `message` is for the clerk."""

    rule: str
    message: Any
    segregation: bool


def refusal(roster: RosterBase, step_name: str, user: User) -> Refusal | None:
    """None when the user may take the step as far as role and segregation of duties go.

    State is not judged here (can_proceed does that); this is the transitions' `permission=`.
    """
    step = STEPS[step_name]
    post, action = acting_post(roster, step)
    if not user.has_perm(permission_name(roster, action)):
        return Refusal(
            "role",
            _("Your role may not take the step “%(step)s” on a roster.")
            % {"step": RosterStep(step.name).label},
            segregation=False,
        )
    for earlier in _earlier_posts(roster, step, post):
        if getattr(roster, f"{earlier.by_field}_id") == user.pk:
            return Refusal(
                f"{post.name}_is_{earlier.name}",
                _("You are the %(earlier)s of roster %(number)s, so you may not also be its %(post)s.")
                % {"earlier": earlier.label, "number": roster.number, "post": post.label},
                segregation=True,
            )
    return None


def permitted(step_name: str) -> Callable[[RosterBase, User], bool]:
    """The transition's `permission=`: role and segregation of duties for one step."""

    def check(roster: RosterBase, user: User) -> bool:
        return refusal(roster, step_name, user) is None

    check.__name__ = f"may_{step_name.replace('-', '_')}"
    return check
