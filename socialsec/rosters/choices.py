"""The roster vocabulary: CHECKED and APPROVED everywhere (issue 4), whatever DOMAIN §8.2 calls them."""

from django.db import models
from django.utils.translation import pgettext_lazy


class RosterStatus(models.TextChoices):
    # Context "roster status": "Checked", "Approved" and "Cancelled" mean other things elsewhere.
    DRAFT = "draft", pgettext_lazy("roster status", "Draft")
    SUBMITTED = "submitted", pgettext_lazy("roster status", "Submitted")
    CHECKED = "checked", pgettext_lazy("roster status", "Checked")
    APPROVED = "approved", pgettext_lazy("roster status", "Approved")
    PAYING = "paying", pgettext_lazy("roster status", "Paying")
    PAID = "paid", pgettext_lazy("roster status", "Paid")
    PARTIALLY_PAID = "partially_paid", pgettext_lazy("roster status", "Partially paid")
    CANCELLED = "cancelled", pgettext_lazy("roster status", "Cancelled")


# After the bank's receipt nothing on the roster changes any more.
SETTLED_STATUSES = (RosterStatus.PAID, RosterStatus.PARTIALLY_PAID)
# A maker, a checker, an approver, an accountant and a cashier stand behind these (DOMAIN E22).
RELEASED_STATUSES = (RosterStatus.PAYING, *SETTLED_STATUSES)


class BankResult(models.TextChoices):
    """Each line's outcome in the bank's receipt (DOMAIN §8.3 results: 业务状态, 错误信息)."""

    PENDING = "pending", pgettext_lazy("bank result", "Pending")
    PAID = "paid", pgettext_lazy("bank result", "Paid")
    FAILED = "failed", pgettext_lazy("bank result", "Failed")


class RosterStep(models.TextChoices):
    """The business steps, by the name the API uses for them (POST /api/rosters/{id}/<step>/)."""

    SUBMIT = "submit", pgettext_lazy("roster step", "Submit")
    CHECK = "check", pgettext_lazy("roster step", "Check")
    APPROVE = "approve", pgettext_lazy("roster step", "Approve")
    PREPARE_PAYMENT = "prepare-payment", pgettext_lazy("roster step", "Prepare payment")
    PAY = "pay", pgettext_lazy("roster step", "Release payment")
    RETURN = "return", pgettext_lazy("roster step", "Return to draft")
    CANCEL = "cancel", pgettext_lazy("roster step", "Cancel")
    BANK_RECEIPT = "bank-receipt", pgettext_lazy("roster step", "Record bank receipt")
    GENERATE = "generate", pgettext_lazy("roster step", "Generate")
