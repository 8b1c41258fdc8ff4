"""The person page (记录一生, issue 3): enrollments, contribution years, the personal account by
component, and the timeline of every change from the audit trail, masked and paginated, at a
constant number of queries.

DOMAIN §1.2 (grades, the subsidy by grade, none for a back-paid year), §1.3 (proxy payment),
§2.2 (employee months on a base), §8.1 (ContributionRecord, PersonalAccount with its
components kept apart), §8.2 (Enrollment states); worked examples E2 (proxy-paid minimum
grade), E5 (grade 500 with its 60-yuan subsidy) and E6 (a back-paid year gets no subsidy).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pghistory
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrollment import selectors, services
from enrollment.choices import (
    CategorySource,
    EnrollmentStatus,
    Payer,
    PeriodKind,
    Relationship,
    Scheme,
    SpecialGroup,
)
from enrollment.models import ContributionRecord, Enrollment, Person
from socialsec.core.models import User
from socialsec.lib.masking import mask_bank_account
from socialsec.lib.resident_id import build_resident_id, mask_resident_id
from tests.enrollment.factories import OrganizationFactory
from tests.factories import HouseholdFactory, PersonFactory

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def page_of(client, person: Person, **params) -> str:
    response = client.get(f"/persons/{person.pk}/", params, **EN)
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, element_id: str) -> str:
    """The HTML of one section of the page, from its opening tag to the next section."""
    start = html.index(f'id="{element_id}"')
    end = html.find("<section", start)
    return html[start : end if end != -1 else len(html)]


def rows_of(html: str, attribute: str, value: str) -> list[str]:
    return re.findall(rf'<tr[^>]*{attribute}="{value}"[^>]*>(.*?)</tr>', html, flags=re.S)


def employee_months(enrollment: Enrollment, year: int, months: int, base: str, personal: str, **fields):
    """Month records of an employee scheme, as a contribution import writes them (DOMAIN §2.2)."""
    return [
        ContributionRecord.objects.create(
            enrollment=enrollment,
            period_kind=PeriodKind.MONTH,
            period_start=dt.date(year, month, 1),
            base=Decimal(base),
            personal_amount=Decimal(personal),
            payer=Payer.EMPLOYER,
            paid_on=dt.date(year, month, 15),
            recorded_by=enrollment.enrolled_by,
            **fields,
        )
        for month in range(1, months + 1)
    ]


def pay_year(cast, enrollment: Enrollment, year: int, grade: str = "500", **kwargs) -> ContributionRecord:
    kwargs.setdefault("paid_on", dt.date(year, 3, 15))
    return services.contribution_record(
        enrollment_id=enrollment.pk,
        period_start=dt.date(year, 1, 1),
        grade=Decimal(grade),
        by=cast.maker_ann,
        **kwargs,
    )


def a_life(cast, person: Person, *, resident_years: int = 2, employers: int = 1) -> dict:
    """A household, a special group, employee pension months with an employer, then the resident
    pension with its years: the record a county keeps of one person, through the services."""
    household = HouseholdFactory(village=cast.village_a, number=f"H-{person.pk}")
    Person.objects.filter(pk=person.pk).update(household=household, relationship=Relationship.HEAD)
    person.refresh_from_db()
    spouse = PersonFactory(
        village=cast.village_a, household=household, relationship=Relationship.SPOUSE, name="王秀英"
    )
    services.person_category_add(
        person_id=person.pk,
        category=SpecialGroup.SEVERE_DISABILITY,
        source=CategorySource.DISABILITY_FEDERATION,
        effective_from=dt.date(2012, 5, 1),
        disability_grade=1,
        by=cast.maker_ann,
    )
    employee = []
    for index in range(employers):
        organization = OrganizationFactory(township=cast.township_a, name=f"莲塘机械厂{index}")
        enrollment = Enrollment.objects.create(
            person=person,
            scheme=Scheme.EMPLOYEE_PENSION,
            status=EnrollmentStatus.TRANSFERRED_OUT,
            pooling_area="360121",
            start_date=dt.date(2000 + index, 1, 1),
            end_date=dt.date(2000 + index, 12, 31),
            organization=organization,
            enrolled_by=cast.maker_ann,
        )
        employee_months(enrollment, 2000 + index, 12, "3000", "240")
        employee.append(enrollment)
    resident = services.enrollment_enroll(
        person_id=person.pk, scheme=Scheme.RESIDENT_PENSION, start_date=dt.date(2015, 1, 1), by=cast.maker_ann
    )
    years = [pay_year(cast, resident, 2015 + offset) for offset in range(resident_years)]
    for record in years:
        record.refresh_from_db()  # amounts as stored, with their two decimals
    return {
        "household": household,
        "spouse": spouse,
        "employee": employee,
        "resident": resident,
        "years": years,
    }


# --- Enrollments, contribution years and the account ----------------------------------------------


def test_the_page_lists_every_enrollment_with_scheme_status_dates_and_employer(client, cast, person_in_a):
    life = a_life(cast, person_in_a)
    client.force_login(cast.maker_ann)
    enrollments = section(page_of(client, person_in_a), "enrollments")

    [resident] = rows_of(enrollments, "data-enrollment", str(life["resident"].pk))
    assert "Resident pension" in resident and "Contributing" in resident and "2015-01-01" in resident
    [employee] = rows_of(enrollments, "data-enrollment", str(life["employee"][0].pk))
    assert "Employee pension" in employee and "Transferred out" in employee
    assert "2000-01-01" in employee and "2000-12-31" in employee
    assert "莲塘机械厂0" in employee


def test_e5_each_resident_year_shows_its_grade_and_the_60_yuan_subsidy_of_grade_500(
    client, cast, person_in_a
):
    life = a_life(cast, person_in_a, resident_years=2)
    client.force_login(cast.maker_ann)
    years = section(page_of(client, person_in_a), "contribution-years")

    for record in life["years"]:
        [row] = rows_of(years, "data-year", str(record.period_start.year))
        assert "500.00 yuan grade" in row
        assert f'data-column="personal">{record.personal_amount}<' in row
        assert f'data-column="government_subsidy">{record.government_subsidy}<' in row
        assert record.government_subsidy == Decimal("60.00")  # E5: grades of 500 and above
        assert f'data-column="credited">{record.credited_to_account}<' in row
        assert "Back-paid" not in row


def test_e6_a_back_paid_year_is_marked_and_shows_no_subsidy(client, cast, person_in_a):
    life = a_life(cast, person_in_a, resident_years=1)
    backpaid = pay_year(cast, life["resident"], 2016, paid_on=dt.date(2018, 2, 1))
    client.force_login(cast.maker_ann)
    [row] = rows_of(section(page_of(client, person_in_a), "contribution-years"), "data-year", "2016")
    assert backpaid.is_backpay
    assert 'data-column="government_subsidy">0.00<' in row
    assert "Back-paid, no subsidy" in row


def test_e2_a_proxy_paid_year_shows_the_proxy_payment_and_its_source(client, cast, person_in_a):
    life = a_life(cast, person_in_a, resident_years=0)
    pay_year(
        cast,
        life["resident"],
        2019,
        grade="100",
        proxy_payment_amount=Decimal("100"),
        proxy_payment_source="县财政代缴",
        payer=Payer.GOVERNMENT,
    )
    client.force_login(cast.maker_ann)
    [row] = rows_of(section(page_of(client, person_in_a), "contribution-years"), "data-year", "2019")
    assert 'data-column="personal">0.00<' in row  # the grade less the proxy payment
    assert "100.00" in row.split('data-column="proxy_payment">')[1].split("</td>")[0]
    assert "县财政代缴" in row


def test_employee_months_are_summed_per_year_with_their_base(client, cast, person_in_a):
    life = a_life(cast, person_in_a, resident_years=0)
    second = Enrollment.objects.create(
        person=person_in_a,
        scheme=Scheme.UNEMPLOYMENT,
        pooling_area="360121",
        start_date=dt.date(2001, 1, 1),
        enrolled_by=cast.maker_ann,
    )
    employee_months(second, 2001, 3, "3000", "30")
    ContributionRecord.objects.create(
        enrollment=second,
        period_kind=PeriodKind.MONTH,
        period_start=dt.date(2001, 4, 1),
        base=Decimal("3600"),
        personal_amount=Decimal("36"),
        payer=Payer.EMPLOYER,
        paid_on=dt.date(2002, 2, 1),
        is_backpay=True,
        recorded_by=cast.maker_ann,
    )
    client.force_login(cast.maker_ann)
    years = section(page_of(client, person_in_a), "contribution-years")

    [pension] = rows_of(years, "data-enrollment", str(life["employee"][0].pk))
    assert "12 months" in pension and "base 3000.00" in pension
    assert 'data-column="personal">2880.00<' in pension  # 12 × 240
    [unemployment] = rows_of(years, "data-enrollment", str(second.pk))
    assert "4 months" in unemployment and "base 3000.00 to 3600.00" in unemployment
    assert 'data-column="personal">126.00<' in unemployment  # 3 × 30 + 36
    assert "1 month back-paid" in unemployment


def test_the_account_shows_each_component_and_the_balance(client, cast, person_in_a):
    life = a_life(cast, person_in_a, resident_years=3)
    client.force_login(cast.maker_ann)
    [account] = rows_of(section(page_of(client, person_in_a), "accounts"), "data-scheme", "resident_pension")
    personal = sum(r.personal_amount for r in life["years"])
    subsidy = sum(r.government_subsidy for r in life["years"])
    assert f'data-component="personal">{personal}<' in account
    assert f'data-component="government_subsidy">{subsidy}<' in account
    assert 'data-component="collective">0.00<' in account
    assert f'data-component="balance">{personal + subsidy}<' in account
    assert 'data-component="contribution_years">3.00<' in account


def test_roles_without_the_enrollment_permissions_see_neither_the_sections_nor_their_history(
    client, cast, person_in_a
):
    a_life(cast, person_in_a)
    client.force_login(cast.accountant_dan)  # reads the registry, not enrollments or contributions
    html = page_of(client, person_in_a)
    assert 'id="enrollments"' not in html and 'id="contribution-years"' not in html
    assert 'id="accounts"' not in html
    timeline = section(html, "timeline")
    assert 'data-subject="person"' in timeline and 'data-subject="special_group"' in timeline
    assert 'data-subject="enrollment"' not in timeline and 'data-subject="contribution"' not in timeline
    assert 'data-subject="account"' not in timeline


def test_a_person_with_no_enrollment_says_so(client, cast, person_in_a):
    client.force_login(cast.maker_ann)
    html = page_of(client, person_in_a)
    assert "Not enrolled in any scheme." in html
    assert "No contribution recorded." in html and "No personal account." in html


# --- The timeline ----------------------------------------------------------------------------------


def test_the_timeline_names_every_kind_of_record_with_who_and_what_changed(client, cast, person_in_a):
    life = a_life(cast, person_in_a, resident_years=1)
    services.enrollment_terminate(
        enrollment_id=life["resident"].pk,
        reason="dual_scheme",
        on=dt.date(2016, 6, 30),
        note="双重领取核查",
        by=cast.checker_ben,
    )
    client.force_login(cast.maker_ann)
    timeline = section(page_of(client, person_in_a), "timeline")
    entries = re.findall(r'<li class="list-group-item" data-subject="(\w+)" data-event="(\w+)"', timeline)

    assert ("enrollment", "update") in entries  # the termination
    for kind in ("person", "household", "special_group", "enrollment", "contribution", "account"):
        assert (kind, "insert") in entries or (kind, "update") in entries, kind
    termination = timeline.split('data-subject="enrollment" data-event="update"')[1].split("</li>")[0]
    assert "by checker_ben" in termination
    assert "Resident pension" in termination  # which enrollment
    assert "<del" in termination and "Contributing" in termination and "Terminated" in termination
    assert "Dual receipt of pensions" in termination and "2016-06-30" in termination
    assert "双重领取核查" in termination  # the note the chief gave
    grade = timeline.split('data-subject="contribution" data-event="insert"')[1].split("</li>")[0]
    assert "Resident pension 2015" in grade and "500.00" in grade and "by maker_ann" in grade
    account = timeline.split('data-subject="account" data-event="update"')[1].split("</li>")[0]
    assert "0.00" in account and "500.00" in account  # the personal component, before and after
    group = timeline.split('data-subject="special_group" data-event="insert"')[1].split("</li>")[0]
    assert "Severe disability" in group and "Disability federation" in group and "2012-05-01" in group


def test_the_timeline_masks_id_card_and_bank_numbers_in_its_changes(client, cast, person_in_a):
    old_id = person_in_a.id_number
    new_id = build_resident_id("360121", person_in_a.birth_date, 777)
    with pghistory.context(user=cast.maker_ann.pk):
        Person.objects.filter(pk=person_in_a.pk).update(
            id_number=new_id, bank_account_number="6217001234567891234", card_number="A36012145"
        )
    with pghistory.context(user=cast.maker_ann.pk):
        Person.objects.filter(pk=person_in_a.pk).update(bank_account_number="6228480000000005678")
    client.force_login(cast.checker_ben)  # may unmask, yet the history shows masks only
    html = page_of(client, person_in_a)
    for number in (old_id, new_id, "6217001234567891234", "6228480000000005678", "A36012145"):
        assert number not in html
    timeline = section(html, "timeline")
    assert mask_resident_id(old_id) in timeline and mask_resident_id(new_id) in timeline
    assert mask_bank_account("6217001234567891234") in timeline
    assert mask_bank_account("6228480000000005678") in timeline
    assert "*****2145" in timeline


def test_the_timeline_names_the_request_the_task_and_the_import_batch(
    client, cast, person_in_a, settings, tmp_path
):
    from tests.imports.files import FileMaker
    from tests.imports.helpers import check, confirm_and_commit, upload

    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(cast.maker_ann)
    response = client.post(
        f"/api/persons/{person_in_a.pk}/death/",
        {"death_date": "2024-02-01", "source": "民政"},
        content_type="application/json",
    )
    assert response.status_code == 200
    with pghistory.context(task="enrollment.tasks.card_status_sync", task_id="t-1"):
        Person.objects.filter(pk=person_in_a.pk).update(phone="13900000000")
    other = PersonFactory(village=cast.village_a, name="赵六")
    path = FileMaker(tmp_path / "files").xlsx([[other.id_number, other.name, "2024-03-05"]])
    batch = confirm_and_commit(check(upload(cast.maker_ann, path, cast.township_a)), cast.maker_ann)

    by_request = section(page_of(client, person_in_a), "timeline")
    assert f"request POST /api/persons/{person_in_a.pk}/death/" in by_request
    assert "task enrollment.tasks.card_status_sync" in by_request
    by_import = section(page_of(client, other), "timeline")
    assert f'href="/imports/{batch.pk}/"' in by_import
    assert f"import batch {batch.pk} (" in by_import
    assert "2024-03-05" in by_import  # the death date the list set


def test_looking_at_the_full_numbers_is_in_the_timeline_with_who_looked(client, cast, person_in_a):
    services.person_unmask_id_number(person_id=person_in_a.pk, by=cast.checker_ben)
    client.force_login(cast.maker_ann)
    timeline = section(page_of(client, person_in_a), "timeline")
    seen = timeline.split('data-event="unmask_id_number"')[1].split("</li>")[0]
    assert "Full ID number viewed" in seen and "by checker_ben" in seen
    assert person_in_a.id_number not in timeline


def test_the_timeline_is_newest_first_in_pages_and_htmx_swaps_one_page(client, cast, person_in_a):
    size = selectors.TIMELINE_PAGE_SIZE
    for index in range(size + 4):  # the insert and these updates: size + 5 entries
        with pghistory.context(user=cast.maker_ann.pk):
            Person.objects.filter(pk=person_in_a.pk).update(phone=f"1390000{index:04d}")
    client.force_login(cast.maker_ann)

    first = section(page_of(client, person_in_a), "timeline")
    phones = re.findall(r"1390000(\d{4})\s*</dd>", first)
    assert len(phones) == size
    assert phones[0] == f"{size + 3:04d}" and phones == sorted(phones, reverse=True)
    assert 'id="timeline-older"' in first and 'id="timeline-newer"' not in first

    response = client.get(
        f"/persons/{person_in_a.pk}/",
        {"timeline_page": 2},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="timeline",
        **EN,
    )
    second = response.content.decode()
    assert "<html" not in second and second.lstrip().startswith('<section class="card mb-4"')
    assert re.findall(r"1390000(\d{4})\s*</dd>", second) == ["0003", "0002", "0001", "0000"]
    assert 'data-event="insert"' in second  # the oldest entry: the registration
    assert 'id="timeline-newer"' in second and 'id="timeline-older"' not in second


def test_a_timeline_page_out_of_range_is_empty_and_a_bad_one_is_the_first(client, cast, person_in_a):
    client.force_login(cast.maker_ann)
    assert "No history recorded." in page_of(client, person_in_a, timeline_page=9)
    assert 'data-event="insert"' in section(page_of(client, person_in_a, timeline_page="x"), "timeline")


def test_the_timeline_of_another_townships_person_is_not_found(client, cast, person_in_b):
    client.force_login(cast.maker_ann)
    response = client.get(
        f"/persons/{person_in_b.pk}/", {"timeline_page": 1}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="timeline"
    )
    assert response.status_code == 404
    assert "王芳" not in response.content.decode()


# --- Queries ---------------------------------------------------------------------------------------


def _page_queries(client, person: Person) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        page_of(client, person)
    return [query["sql"] for query in captured.captured_queries]


def test_the_page_costs_the_same_queries_for_a_short_or_a_long_life(client, cast, django_assert_num_queries):
    short = PersonFactory(village=cast.village_a, name="短")
    a_life(cast, short, resident_years=1, employers=1)
    long = PersonFactory(village=cast.village_a, name="长")
    a_life(cast, long, resident_years=9, employers=4)
    for index in range(60):  # a long history: more than a page of it
        with pghistory.context(user=cast.maker_ann.pk):
            Person.objects.filter(pk=long.pk).update(phone=f"1390000{index:04d}")
    client.force_login(User.objects.get(pk=cast.maker_ann.pk))
    page_of(client, short)  # warm per-process caches (content types, templates)

    with_short = _page_queries(client, short)
    with django_assert_num_queries(len(with_short)):
        html = page_of(client, long)
    assert html.count("data-enrollment=") > 10 and 'id="timeline-older"' in html
    # session, user, her permissions (2), township ids, the person with its memberships (2),
    # the household and its members (2), the timeline and the names it points to (2),
    # enrollments, contribution years, accounts, and the layout (her roles, her townships)
    assert len(with_short) == 16, "\n".join(q[:90] for q in with_short)
