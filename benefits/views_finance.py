"""Finance on the payout-roster pages (issue 4 "Screens and API"; DOMAIN §8.3, E22 steps 4–6).

The bank file (payment instruction) to download as csv or xlsx, the bank's receipt file to
upload, and the lines the bank refused, listed for re-issue. The rules are those of the API
(benefits/api_export.py), from the same functions: `exports.bank_file_roster` (finance posts
403, other township 404, payment instruction not prepared 409), `exports.record_download` (every
download audited), `receipts.receipt_results` (every bad cell named by row, column and value;
409 before the payment is released) and `services.payout_roster_record_bank_receipt` (PAID or
PARTIALLY_PAID; the same receipt again changes nothing; a different one for a settled roster 409).
Refusals other than a bad file reach DomainErrorMiddleware and render as the project's error page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from benefits import selectors, services
from benefits.models import PayoutRoster
from enrollment.forms import BootstrapForm
from socialsec.core.exceptions import InvalidInput, NotVisible
from socialsec.core.scoping import get_visible_or_404
from socialsec.core.views import township_scoped, wants_partial
from socialsec.rosters import exports, receipts
from socialsec.rosters.choices import SETTLED_STATUSES, BankResult, RosterStatus, RosterStep
from socialsec.rosters.selectors import ROSTER_RELATED, line_page

RECEIPT_PERMISSION = "benefits.record_bank_receipt_payoutroster"
FAILED_PAGE_SIZE = 50


class ReceiptForm(BootstrapForm):
    file = forms.FileField(
        label=gettext_lazy("The bank's receipt file (xlsx or csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=2000, required=False)


# --- What the roster page shows finance ----------------------------------------------------------------


def failed_lines_context(roster: PayoutRoster, after: int | None) -> dict[str, Any]:
    """A keyset page of the lines the bank refused, with the bank's message (E22 step 5): one query."""
    failed = selectors.payout_roster_lines(roster, after=after).filter(bank_status=BankResult.FAILED)
    rows, next_after = line_page(failed, size=FAILED_PAGE_SIZE)
    return {"roster": roster, "failed_lines": rows, "failed_after": after, "failed_next_after": next_after}


def finance_context(roster: PayoutRoster, user: Any, steps: list[str]) -> dict[str, Any]:
    """The bank file links, the receipt form and the failed lines, as far as `user` may see them.

    `steps` are the user's available steps: the receipt form shows when recording it is one of
    them (finance, the roster PAYING, not one of its business posts). No query beyond the failed
    lines' page (the permissions are cached by the step buttons already).
    """
    context: dict[str, Any] = {
        "bank_file": roster.prepared_by_id is not None and exports.may_download_bank_file(PayoutRoster, user),
        "bank_file_in_background": exports.xlsx_in_background(roster),
        "receipt_form": ReceiptForm() if RosterStep.BANK_RECEIPT in steps else None,
    }
    if roster.status == RosterStatus.PARTIALLY_PAID:
        context.update(failed_lines_context(roster, None))
    return context


# --- The bank file -------------------------------------------------------------------------------------


@township_scoped  # exports.bank_file_roster reads through get_visible_or_404
@login_required
@require_safe
def bank_file(request: HttpRequest, pk: int) -> HttpResponse:
    """The roster's bank file as csv or xlsx, as GET /api/rosters/{id}/bank-file/ answers it.

    A roster longer than the inline limit gets its xlsx from a Celery task: the page of that
    export follows (nothing is delivered, so nothing is recorded yet).
    """
    format_ = exports.bank_file_format(request.GET.get("format"))
    roster = exports.bank_file_roster(model=PayoutRoster, roster_id=pk, by=request.user)
    if format_ == "xlsx" and exports.xlsx_in_background(roster):
        token = exports.start_export(model=PayoutRoster, roster=roster, kind="bank")
        return redirect("benefits:bank_file_export", pk=roster.pk, token=token)
    return exports.bank_file_response(roster, format_=format_, by=request.user)


@township_scoped
@login_required
@require_safe
@vary_on_headers("HX-Request")
def bank_file_export(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    """A long roster's xlsx bank file being built: pending (polled by htmx), ready (a link), failed.

    The link is the API's export file, which records the download as the inline file does.
    """
    roster = exports.bank_file_roster(model=PayoutRoster, roster_id=pk, by=request.user)
    if exports.export_kind(token) != "bank":
        raise NotVisible(model="export")
    context = {"roster": roster, "token": token, "status": exports.export_status(roster.pk, token)}
    template = (
        "benefits/_bank_export_status.html" if wants_partial(request) else "benefits/bank_file_export.html"
    )
    return render(request, template, context)


# --- The bank's receipt --------------------------------------------------------------------------------


def _settled_message(roster: PayoutRoster, repeated: bool) -> tuple[int, str]:
    if repeated:
        return messages.INFO, _(
            "This receipt of roster %(number)s was recorded already; nothing has changed."
        ) % {"number": roster.number}
    if roster.status == RosterStatus.PAID:
        return messages.SUCCESS, ngettext(
            "The bank's receipt is recorded: roster %(number)s is paid, %(persons)s person, %(amount)s.",
            "The bank's receipt is recorded: roster %(number)s is paid, %(persons)s persons, %(amount)s.",
            roster.paid_persons,
        ) % {"number": roster.number, "persons": roster.paid_persons, "amount": roster.paid_amount}
    return messages.WARNING, ngettext(
        "The bank's receipt is recorded: roster %(number)s is partially paid. %(failed)s line "
        "(%(amount)s) failed at the bank; it is listed below for re-issue.",
        "The bank's receipt is recorded: roster %(number)s is partially paid. %(failed)s lines "
        "(%(amount)s) failed at the bank; they are listed below for re-issue.",
        roster.failed_persons,
    ) % {"number": roster.number, "failed": roster.failed_persons, "amount": roster.failed_amount}


@township_scoped
@login_required
@permission_required(RECEIPT_PERMISSION, raise_exception=True)
@require_POST
def bank_receipt(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload → receipts.receipt_results → payout_roster_record_bank_receipt → the roster page.

    A bad file (400) is shown with every bad cell and the form again; the other refusals (403,
    404, 409) reach DomainErrorMiddleware. The same receipt again changes nothing and says so.
    """
    roster = get_visible_or_404(PayoutRoster.objects.select_related(*ROSTER_RELATED), request.user, pk=pk)
    form = ReceiptForm(request.POST, request.FILES)
    error: InvalidInput | None = None
    if form.is_valid():
        # Settled before this upload: the service then accepts only the same receipt, as a no-op.
        repeated = roster.status in SETTLED_STATUSES
        try:
            results = receipts.receipt_results_from_upload(roster=roster, upload=form.cleaned_data["file"])
            settled = services.payout_roster_record_bank_receipt(
                roster_id=roster.pk, results=results, by=request.user, note=form.cleaned_data["note"]
            )
        except InvalidInput as refused:
            error = refused
        else:
            level, text = _settled_message(settled, repeated)
            messages.add_message(request, level, text)
            return redirect("benefits:roster_detail", pk=roster.pk)
    context = {
        "roster": roster,
        "receipt_form": form,
        "receipt_error": error,
        "bad_cells": error.details.get("rows", []) if error else [],
    }
    return render(request, "benefits/bank_receipt.html", context, status=400)
