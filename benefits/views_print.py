"""The printable payout roster (花名册, DOMAIN §8.3): one HTML page laid out for paper.

Header (county, programme, month, township, roster number, digest), the lines, the totals and the
signature block of the five posts filled with the people who took each step and when (E22).
IDs are masked unless the viewer may unmask; a print with full IDs is recorded in the roster's
audit trail. Print styles come from static/css/roster_print.css (no inline style or script: CSP).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from benefits.models import PayoutRoster
from socialsec.core.views import township_scoped
from socialsec.rosters import exports
from socialsec.rosters.selectors import ROSTER_RELATED, roster_signatures


@township_scoped
@login_required
@permission_required("benefits.view_payoutroster", raise_exception=True)
@require_safe
def roster_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The roster as printed and signed: 404 outside the viewer's townships, 409 before submit."""
    roster = exports.printable_roster(
        queryset=PayoutRoster.objects.select_related(*ROSTER_RELATED), roster_id=pk, by=request.user
    )
    full_ids = exports.may_see_full_ids(request.user)
    if full_ids:
        exports.record_download(roster, label=exports.ROSTER_PRINT_FULL_IDS, by=request.user, format="html")
    context = {
        "roster": roster,
        "header": exports.roster_header(roster),
        "columns": [str(label) for label in exports.PRINT_COLUMNS],
        "rows": [exports.print_row(line, full_ids=full_ids) for line in exports.print_lines(roster)],
        "signatures": roster_signatures(roster),
        "full_ids": full_ids,
        "county_name": settings.COUNTY_NAME,
    }
    return render(request, "benefits/print/roster.html", context)
