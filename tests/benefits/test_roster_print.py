"""The printable roster (花名册, issue 4 "Payment"; DOMAIN §8.3 roster columns and footer, E22):
/rosters/{id}/print/ and GET /api/rosters/{id}/roster-file/ with header, lines, totals and the
signature block filled with the five real people; IDs masked unless the viewer may unmask;
exports safe against formula injection; CSP-safe page; constant queries.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from python_calamine import CalamineWorkbook

from socialsec.core.models import User
from socialsec.lib.resident_id import mask_resident_id
from socialsec.rosters.choices import RosterStatus
from tests.factories import PersonFactory
from tests.rosters.factories import NOVEMBER, draft_roster, payees, roster_in

pytestmark = pytest.mark.django_db

NAMES = {
    "maker_ann": ("安", "=SUM(A1:A9)"),  # a maker whose name a spreadsheet would run
    "checker_ben": ("贝", "本"),
    "approver_cai": ("蔡", "才"),
    "accountant_dan": ("邓", "丹"),
    "cashier_fay": ("方", "菲"),
}


@pytest.fixture
def named(cast):
    for username, (last, first) in NAMES.items():
        User.objects.filter(username=username).update(last_name=last, first_name=first)
    return cast


def full_name(username: str) -> str:
    return User.objects.get(username=username).get_full_name()


def page(user, roster) -> tuple[int, str]:
    client = Client()
    client.force_login(User.objects.get(pk=user.pk))
    response = client.get(f"/rosters/{roster.pk}/print/")
    return response.status_code, response.content.decode()


def test_e22_the_printed_roster_has_header_lines_totals_and_five_distinct_real_signatures(named):
    cast = named
    roster = roster_in(RosterStatus.PAID, cast)
    status, html = page(cast.maker_ann, roster)
    assert status == 200
    header = html[html.index("roster-print-header") : html.index("roster-print-lines")]
    for value in (
        roster.number,
        roster.digest,
        "2025-10",
        cast.township_a.name,
        roster.get_programme_display(),
    ):
        assert str(value) in header, value
    names = [full_name(username) for username in NAMES]
    assert len(set(names)) == 5
    signatures = html[html.index("roster-print-signatures") :]
    for label in ("制表人", "审核人", "审批人", "会计", "出纳"):
        assert label in signatures
    for name in names:
        assert name in signatures, name
    roster.refresh_from_db()
    assert f"{roster.released_at.astimezone():%Y-%m-%d}" in signatures
    # Totals: persons and amount.
    assert "493.74" in html
    assert re.search(r"3\s*(人|persons)", html)


def test_ids_are_masked_for_a_clerk_and_full_for_an_auditor_whose_print_is_recorded(named):
    cast = named
    roster = roster_in(RosterStatus.SUBMITTED, cast)
    person = roster.lines.select_related("person").get(seq=1).person
    _, clerk_html = page(cast.maker_ann, roster)
    assert person.id_number not in clerk_html
    assert mask_resident_id(person.id_number) in clerk_html
    assert not roster.events.filter(pgh_label="roster_print_full_ids").exists()
    _, auditor_html = page(cast.auditor_gus, roster)
    assert person.id_number in auditor_html
    event = roster.events.select_related("pgh_context").get(pgh_label="roster_print_full_ids")
    assert event.pgh_context.metadata["user"] == cast.auditor_gus.pk


def test_the_page_is_csp_safe_no_inline_style_or_script(named):
    roster = roster_in(RosterStatus.SUBMITTED, named)
    _, html = page(named.maker_ann, roster)
    article = html[html.index('<article class="roster-print"') : html.index("</article>")]
    assert " style=" not in article
    assert "<script" not in article
    assert "onclick" not in html
    for script in re.findall(r"<script[^>]*>", html):
        assert "src=" in script, script
    assert "css/roster_print.css" in html


def test_the_print_page_is_403_without_the_view_permission(named):
    roster = roster_in(RosterStatus.SUBMITTED, named)
    assert page(named.leader_hua, roster)[0] == 403


def test_the_print_page_of_another_township_is_404(named):
    roster = roster_in(RosterStatus.SUBMITTED, named)
    assert page(named.outsider_eve, roster)[0] == 404


@pytest.mark.parametrize("status", [RosterStatus.DRAFT, RosterStatus.CANCELLED])
def test_a_draft_or_cancelled_roster_has_no_printed_form_409(named, status):
    roster = roster_in(status, named)
    assert page(named.maker_ann, roster)[0] == 409


def test_the_print_page_runs_the_same_queries_for_three_and_for_twenty_lines(named):
    small = roster_in(RosterStatus.PAID, named, count=3)
    large = roster_in(RosterStatus.PAID, named, count=20, period=NOVEMBER)

    def count(roster) -> int:
        client = Client()
        client.force_login(User.objects.get(pk=named.checker_ben.pk))
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/rosters/{roster.pk}/print/")
        assert response.status_code == 200
        return len(captured)

    assert count(small) == count(large)


# --- The xlsx ---------------------------------------------------------------------------------------


def xlsx_rows(api, user, roster, tmp_path) -> list[list]:
    response = api.as_user(User.objects.get(pk=user.pk)).get(f"/api/rosters/{roster.pk}/roster-file/")
    assert response.status_code == 200, response.content
    path = tmp_path / "roster.xlsx"
    path.write_bytes(response.content)
    with CalamineWorkbook.from_path(str(path)) as workbook:
        return workbook.get_sheet_by_index(0).to_python()


def test_the_xlsx_has_header_lines_totals_signatures_and_runs_no_formula(api, named, tmp_path):
    cast = named
    evil = PersonFactory(
        village=cast.village_a, name="=1+1", bank_account_number="6217000000000000009", bank_name="农商银行"
    )
    roster = roster_in(RosterStatus.PAID, cast, persons=[evil, *payees(cast.village_a, 2)])
    rows = xlsx_rows(api, cast.accountant_dan, roster, tmp_path)
    cells = [str(cell) for row in rows for cell in row]
    assert roster.number in cells and roster.digest in cells
    header_row = next(index for index, row in enumerate(rows) if row[0] == "序号")
    first = rows[header_row + 1]
    assert first[0] == 1
    assert first[2] == "'=1+1"  # text, never a formula
    assert first[3] == mask_resident_id(evil.id_number)  # finance may not unmask
    assert evil.id_number not in cells
    total = next(row for row in rows if row[0] == "合计" or row[0] == "Total")
    assert total[9] == pytest.approx(float(roster.total_amount))
    signatures = {row[0]: row[1] for row in rows[-5:]}
    assert signatures["制表人"] == "'" + full_name("maker_ann")  # "=SUM…" neutralised
    assert [signatures[label] for label in ("审核人", "审批人", "会计", "出纳")] == [
        full_name(username) for username in ("checker_ben", "approver_cai", "accountant_dan", "cashier_fay")
    ]
    assert all(row[2] for row in rows[-5:])  # each with its time


def test_the_xlsx_is_403_without_view_404_elsewhere_409_for_a_draft(api, named):
    roster = roster_in(RosterStatus.SUBMITTED, named)
    draft = draft_roster(named, period=NOVEMBER)
    client = api.as_user(User.objects.get(pk=named.leader_hua.pk))
    assert client.get(f"/api/rosters/{roster.pk}/roster-file/").status_code == 403
    client = api.as_user(User.objects.get(pk=named.outsider_eve.pk))
    assert client.get(f"/api/rosters/{roster.pk}/roster-file/").status_code == 404
    client = api.as_user(User.objects.get(pk=named.maker_ann.pk))
    assert client.get(f"/api/rosters/{draft.pk}/roster-file/").status_code == 409


def test_the_xlsx_runs_the_same_queries_for_three_and_for_twenty_lines(api, named):
    small = roster_in(RosterStatus.SUBMITTED, named, count=3)
    large = roster_in(RosterStatus.SUBMITTED, named, count=20, period=NOVEMBER)

    def count(roster) -> int:
        client = api.as_user(User.objects.get(pk=named.maker_ann.pk))
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/api/rosters/{roster.pk}/roster-file/").status_code == 200
        return len(captured)

    assert count(small) == count(large)
