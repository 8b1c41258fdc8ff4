"""Coverage (全民参保): hand-computed figures from the rollup, scoped pages, the list and its xlsx."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrollment.choices import EnrollmentStatus, Scheme, TerminationReason
from enrollment.coverage import coverage_refresh, latest_birth_date, not_enrolled
from enrollment.models import CoverageRollup, Enrollment, Person
from enrollment.tasks import coverage_refresh as coverage_refresh_task
from socialsec.lib.resident_id import mask_resident_id
from tests.factories import PersonFactory, VillageFactory

pytestmark = pytest.mark.django_db

OVERVIEW_URL = "/persons/coverage/"


def township_url(township) -> str:
    return f"/persons/coverage/township/{township.pk}/"


def not_enrolled_url(division, level: str = "village", suffix: str = "/") -> str:
    return f"/persons/coverage/{level}/{division.pk}/not-enrolled{suffix}"


def _today() -> dt.date:
    return timezone.localdate()


def _sixteenth_birthday_today() -> dt.date:
    return latest_birth_date(_today())


def _enrol(person: Person, scheme: str, by, status: str = EnrollmentStatus.ACTIVE) -> Enrollment:
    enrollment = Enrollment.objects.create(
        person=person, scheme=scheme, pooling_area="360121", start_date=dt.date(2020, 1, 1), enrolled_by=by
    )
    if status != EnrollmentStatus.ACTIVE:
        # Straight to the state under test: the lifecycle itself is tested in test_enrollments.
        reason = TerminationReason.DEATH if status == EnrollmentStatus.TERMINATED else ""
        Enrollment.objects.filter(pk=enrollment.pk).update(status=status, termination_reason=reason)
    return enrollment


@pytest.fixture
def county(cast):
    """A small county computed by hand (ages on today).

    Township A, village_a: five residents 16+ of whom three hold an open pension (one
    employee, two resident, one of those suspended: still open); one with a terminated
    resident pension and one with resident medical only are not enrolled. One is 16 today
    (counted), one turns 16 tomorrow (not counted), one has died (not counted).
    Township A, village_a2: two residents, one in the government/institution pension.
    Township B, village_b: two residents; one holds an employee and a resident pension at
    once (counted once), one holds nothing.
    """
    a, b = cast.village_a, cast.village_b
    a2 = VillageFactory(code="360121100202", name="南岭村委会", parent=cast.township_a)
    by = cast.maker_ann
    people = {
        "employee": PersonFactory(village=a, name="甲一"),
        "resident": PersonFactory(village=a, name="甲二", birth_date=dt.date(1980, 1, 1)),
        "suspended": PersonFactory(village=a, name="甲三", birth_date=dt.date(1990, 5, 5)),
        "terminated": PersonFactory(village=a, name="甲四", birth_date=dt.date(1970, 2, 2)),
        "sixteen_today": PersonFactory(village=a, name="甲五", birth_date=_sixteenth_birthday_today()),
        "fifteen": PersonFactory(
            village=a, name="甲六", birth_date=_sixteenth_birthday_today() + dt.timedelta(days=1)
        ),
        "dead": PersonFactory(village=a, name="甲七", death_date=dt.date(2024, 1, 1), death_source="民政"),
        "gov": PersonFactory(village=a2, name="乙一"),
        "nothing_a2": PersonFactory(village=a2, name="乙二"),
        "both": PersonFactory(village=b, name="丙一"),
        "nothing_b": PersonFactory(village=b, name="丙二"),
    }
    _enrol(people["employee"], Scheme.EMPLOYEE_PENSION, by)
    _enrol(people["resident"], Scheme.RESIDENT_PENSION, by)
    _enrol(people["suspended"], Scheme.RESIDENT_PENSION, by, EnrollmentStatus.SUSPENDED_CONTRIB)
    _enrol(people["terminated"], Scheme.RESIDENT_PENSION, by, EnrollmentStatus.TERMINATED)
    _enrol(people["sixteen_today"], Scheme.RESIDENT_MEDICAL, by)
    _enrol(people["dead"], Scheme.RESIDENT_PENSION, by)
    _enrol(people["gov"], Scheme.GOV_INST_PENSION, by)
    _enrol(people["both"], Scheme.EMPLOYEE_PENSION, by)
    _enrol(people["both"], Scheme.RESIDENT_PENSION, by)
    coverage_refresh(as_of=_today())
    return {"a2": a2, **people}


def _figures() -> dict[tuple[int | None, int | None], tuple[int, int]]:
    return {(r.township_id, r.village_id): (r.residents, r.enrolled) for r in CoverageRollup.objects.all()}


# --- The refresh --------------------------------------------------------------------------------


def test_the_refresh_counts_living_residents_of_16_and_over_against_open_pension_enrollments(cast, county):
    assert _figures() == {
        (cast.township_a.pk, cast.village_a.pk): (5, 3),
        (cast.township_a.pk, county["a2"].pk): (2, 1),
        (cast.township_b.pk, cast.village_b.pk): (2, 1),
        (cast.township_a.pk, None): (7, 4),
        (cast.township_b.pk, None): (2, 1),
        (None, None): (9, 5),
    }
    rates = {(r.township_id, r.village_id): r.rate for r in CoverageRollup.objects.all()}
    assert rates[(cast.township_a.pk, cast.village_a.pk)] == Decimal("60.0")
    assert rates[(cast.township_a.pk, None)] == Decimal("57.1")
    assert rates[(None, None)] == Decimal("55.6")
    assert CoverageRollup.objects.get(village=cast.village_a).not_enrolled == 2


def test_the_refresh_is_idempotent_and_moves_the_date(cast, county):
    before = _figures()
    assert coverage_refresh(as_of=_today()) == 6
    assert coverage_refresh(as_of=_today()) == 6
    assert _figures() == before
    assert CoverageRollup.objects.count() == 6
    coverage_refresh(as_of=_today() + dt.timedelta(days=1))  # the 15-year-old turns 16
    assert CoverageRollup.objects.get(village=cast.village_a).residents == 6
    assert set(CoverageRollup.objects.values_list("as_of", flat=True)) == {_today() + dt.timedelta(days=1)}


def test_an_empty_county_has_a_county_row_with_no_rate(db):
    assert coverage_refresh(as_of=dt.date(2026, 6, 30)) == 1
    county_row = CoverageRollup.objects.get()
    assert (county_row.residents, county_row.enrolled, county_row.rate) == (0, 0, None)


def test_the_task_and_the_command_call_the_refresh(cast, county):
    CoverageRollup.objects.all().delete()
    assert coverage_refresh_task.run(as_of=_today().isoformat()) == 6
    CoverageRollup.objects.all().delete()
    out = io.StringIO()
    call_command("refresh_coverage", stdout=out)
    assert "6 rows" in out.getvalue()
    assert CoverageRollup.objects.count() == 6


# --- The pages: the five cases ------------------------------------------------------------------


def test_a_clerk_sees_their_townships_coverage_and_its_villages(client, cast, county):
    client.force_login(cast.maker_ann)
    html = client.get(OVERVIEW_URL).content.decode()
    assert "莲塘镇" in html
    assert "57.1%" in html
    assert "向塘镇" not in html
    assert "55.6%" not in html  # the county total is for county-wide staff
    response = client.get(township_url(cast.township_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert "东山村委会" in html and "60.0%" in html
    assert "南岭村委会" in html and "50.0%" in html


def test_county_wide_staff_see_every_township_and_the_county_total(client, cast, county):
    client.force_login(cast.auditor_gus)
    html = client.get(OVERVIEW_URL).content.decode()
    assert "莲塘镇" in html and "向塘镇" in html and "55.6%" in html


def test_a_role_without_view_person_is_refused(client, cast, county):
    client.force_login(cast.leader_hua)
    assert client.get(OVERVIEW_URL).status_code == 403
    assert client.get(township_url(cast.township_a)).status_code == 403
    assert client.get(not_enrolled_url(cast.village_a)).status_code == 403
    assert client.get(not_enrolled_url(cast.village_a, suffix=".xlsx")).status_code == 403


def test_another_townships_figures_and_lists_are_not_found(client, cast, county):
    client.force_login(cast.maker_ann)
    assert client.get(township_url(cast.township_b)).status_code == 404
    assert client.get(not_enrolled_url(cast.village_b)).status_code == 404
    assert client.get(not_enrolled_url(cast.village_b, suffix=".xlsx")).status_code == 404
    assert client.get(not_enrolled_url(cast.township_b, level="township")).status_code == 404


def test_an_unassigned_clerk_sees_no_figures(client, cast, county):
    client.force_login(cast.unassigned_joe)
    response = client.get(OVERVIEW_URL)
    assert response.status_code == 200
    assert "莲塘镇" not in response.content.decode()
    assert client.get(township_url(cast.township_a)).status_code == 404


def _queries_for(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.parametrize("url_of", [lambda cast: OVERVIEW_URL, lambda cast: township_url(cast.township_a)])
def test_the_coverage_pages_cost_the_same_for_2_or_10_villages_and_never_read_persons(
    client, cast, county, url_of, django_assert_num_queries
):
    client.force_login(cast.auditor_gus)
    url = url_of(cast)
    client.get(url)  # warm per-process caches (content types)
    with_two = _queries_for(client, url)
    assert not any("enrollment_person" in sql for sql in with_two)

    for number in range(8):
        village = VillageFactory(code=f"3601211002{10 + number}", parent=cast.township_a)
        PersonFactory(village=village)
    coverage_refresh(as_of=_today())
    assert CoverageRollup.objects.filter(township=cast.township_a, village__isnull=False).count() == 10
    with django_assert_num_queries(len(with_two)):
        client.get(url)
    assert not any("enrollment_person" in sql for sql in _queries_for(client, url))
    # The list of the not-yet-enrolled does read persons: the check above can see them.
    assert any("enrollment_person" in sql for sql in _queries_for(client, not_enrolled_url(cast.village_a)))


def test_the_coverage_link_is_in_the_navigation_of_those_who_may_see_persons(client, cast, county):
    client.force_login(cast.maker_ann)
    assert f'href="{OVERVIEW_URL}"' in client.get("/").content.decode()
    client.force_login(cast.leader_hua)
    assert f'href="{OVERVIEW_URL}"' not in client.get("/").content.decode()


# --- The not-yet-enrolled list (应保未保) ----------------------------------------------------------


def test_the_not_enrolled_list_names_the_residents_without_an_open_pension(client, cast, county):
    client.force_login(cast.maker_ann)
    response = client.get(not_enrolled_url(cast.village_a))
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("甲四", "甲五"):
        assert name in html
    for name in ("甲一", "甲二", "甲三", "甲六", "甲七", "乙二"):
        assert name not in html
    assert mask_resident_id(county["terminated"].id_number) in html
    assert county["terminated"].id_number not in html

    html = client.get(not_enrolled_url(cast.township_a, level="township")).content.decode()
    assert "甲四" in html and "甲五" in html and "乙二" in html and "乙一" not in html


def test_the_not_enrolled_list_pages_by_keyset(cast, county):
    persons = not_enrolled(cast.maker_ann, on=_today(), township_id=cast.township_a.pk)
    ids = list(persons.values_list("id", flat=True))
    assert ids == sorted([county["terminated"].pk, county["sixteen_today"].pk, county["nothing_a2"].pk])
    assert list(persons.filter(id__gt=ids[0]).values_list("id", flat=True)) == ids[1:]
    # Another township's clerk gets nobody, whatever the id asked for.
    assert not not_enrolled(cast.outsider_eve, on=_today(), township_id=cast.township_a.pk).exists()


def test_the_not_enrolled_list_exports_to_xlsx_with_masked_ids(client, cast, county):
    client.force_login(cast.maker_ann)
    response = client.get(not_enrolled_url(cast.village_a, suffix=".xlsx"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0] == (
        "姓名",
        "公民身份号码",
        "性别",
        "出生日期",
        "年龄",
        "乡镇（街道）",
        "村（社区）",
        "联系电话",
    )
    body = sorted(rows[1:], key=lambda row: row[0])
    assert [row[0] for row in body] == sorted(["甲四", "甲五"])
    assert {row[1] for row in body} == {
        mask_resident_id(county["terminated"].id_number),
        mask_resident_id(county["sixteen_today"].id_number),
    }
    assert all(row[6] == "东山村委会" for row in body)
    assert county["terminated"].id_number.encode() not in b"".join(
        str(cell).encode() for row in rows for cell in row
    )
