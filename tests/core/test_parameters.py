"""Policy parameters: one table, one lookup, and a trace of the rows a calculation used (DOMAIN §0.2).

The seeded national figures come from the data migration; each test that reads them cites the
DOMAIN section it checks.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import translation

from socialsec.core.exceptions import http_status
from socialsec.core.models import PolicyParameter
from socialsec.core.parameter_seed import SEED_ROWS
from socialsec.core.parameters import (
    MissingParameter,
    param,
    parameter_trace,
    params_for,
    retirement_rules,
)
from socialsec.lib.retirement import minimum_contribution_years, retirement_month

pytestmark = pytest.mark.django_db

# A local figure the seed does not have (DOMAIN §1.4: long-contribution top-ups are local).
TOPUP = "resident_pension.long_contribution_topup.per_year"
BASIC = "resident_pension.basic_pension.national_minimum"
ROUNDING = "general.money.rounding_mode"
COUNTY = "360121"  # 南昌县
NEIGHBOUR_COUNTY = "360122"  # same prefecture (南昌市 360100)
OTHER_PREFECTURE_COUNTY = "361002"  # same province (江西 360000), another prefecture
OTHER_PROVINCE_COUNTY = "110101"


def parameter(
    key: str = TOPUP, region: str = "000000", value: object = "2", **fields: object
) -> PolicyParameter:
    fields = {
        "scheme": key.split(".", 1)[0],
        "kind": "decimal",
        "unit": "yuan_per_month",
        "effective_from": dt.date(2025, 1, 1),
        "confidence": "B",
        **fields,
    }
    return PolicyParameter.objects.create(key=key, region_code=region, value=value, **fields)


# --- Dates --------------------------------------------------------------------------------------


class TestDates:
    @pytest.fixture(autouse=True)
    def topup_2025(self):
        parameter(region=COUNTY, effective_from=dt.date(2025, 1, 1), effective_to=dt.date(2025, 12, 31))

    def test_the_day_before_effective_from_finds_nothing(self):
        with pytest.raises(MissingParameter):
            param(TOPUP, COUNTY, on=dt.date(2024, 12, 31))

    def test_effective_from_is_the_first_day_in_force(self):
        assert param(TOPUP, COUNTY, on=dt.date(2025, 1, 1)).decimal() == Decimal(2)

    def test_effective_to_is_the_last_day_in_force(self):
        assert param(TOPUP, COUNTY, on=dt.date(2025, 12, 31)).decimal() == Decimal(2)

    def test_the_day_after_effective_to_finds_nothing(self):
        with pytest.raises(MissingParameter):
            param(TOPUP, COUNTY, on=dt.date(2026, 1, 1))

    def test_the_next_row_takes_over_on_the_day_after(self):
        parameter(region=COUNTY, value="3", effective_from=dt.date(2026, 1, 1))
        assert param(TOPUP, COUNTY, on=dt.date(2025, 12, 31)).decimal() == Decimal(2)
        assert param(TOPUP, COUNTY, on=dt.date(2026, 1, 1)).decimal() == Decimal(3)


# --- Regions ------------------------------------------------------------------------------------


class TestRegions:
    @pytest.fixture(autouse=True)
    def one_row_per_level(self):
        parameter(region="000000", value="1")
        parameter(region="360000", value="2")  # province
        parameter(region="360100", value="3")  # prefecture
        parameter(region=COUNTY, value="4")

    @pytest.mark.parametrize(
        ("region", "answering_region", "value"),
        [
            (COUNTY, COUNTY, "4"),
            (NEIGHBOUR_COUNTY, "360100", "3"),
            (OTHER_PREFECTURE_COUNTY, "360000", "2"),
            (OTHER_PROVINCE_COUNTY, "000000", "1"),
            ("360100", "360100", "3"),
            ("360000", "360000", "2"),
        ],
    )
    def test_the_most_specific_region_answers(self, region, answering_region, value):
        answer = param(TOPUP, region, on=dt.date(2025, 6, 1))
        assert (answer.region_code, answer.decimal()) == (answering_region, Decimal(value))

    def test_a_township_code_asks_for_its_county(self):
        assert param(TOPUP, "360121100000", on=dt.date(2025, 6, 1)).region_code == COUNTY

    def test_a_region_that_is_not_a_division_code_is_a_programming_error(self):
        with pytest.raises(ValueError, match="6- or 12-digit"):
            param(TOPUP, "3601", on=dt.date(2025, 6, 1))


def test_a_county_override_beats_the_national_figure_and_only_in_that_county():
    # DOMAIN §0.2: seeded nationally, overridden by the county; §0.3 rounding is configurable.
    parameter(
        ROUNDING, region=COUNTY, kind="text", unit="", value="half_even", effective_from=dt.date(2026, 1, 1)
    )
    assert param(ROUNDING, COUNTY, on=dt.date(2026, 3, 1)).text() == "half_even"
    assert param(ROUNDING, NEIGHBOUR_COUNTY, on=dt.date(2026, 3, 1)).text() == "half_up"
    assert param(ROUNDING, COUNTY, on=dt.date(2025, 12, 31)).text() == "half_up"  # not yet in force


# --- Missing parameters ---------------------------------------------------------------------------


def test_a_missing_parameter_names_key_region_and_date_and_answers_409():
    with pytest.raises(MissingParameter) as error:
        param(TOPUP, COUNTY, on=dt.date(2025, 6, 1))
    assert error.value.details == {"key": TOPUP, "region": COUNTY, "date": "2025-06-01"}
    assert http_status(error.value) == 409
    with translation.override("en"):
        assert str(error.value.message) == (
            f"No policy parameter {TOPUP} is in force for region {COUNTY} on 2025-06-01."
        )


def test_a_missing_parameter_message_is_translated_when_shown():
    # Needs the zh_Hans catalogue compiled with /tmp/lead/tr_parameters.json.
    with translation.override("en"):
        error = MissingParameter(key=TOPUP, region=COUNTY, on=dt.date(2025, 6, 1))
    with translation.override("zh-hans"):
        assert str(error.message) == f"{COUNTY} 地区在 2025-06-01 没有生效的政策参数 {TOPUP}。"


# --- Seeded national figures --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "amount"),
    [
        (dt.date(2023, 6, 1), "103"),
        (dt.date(2024, 6, 1), "123"),
        (dt.date(2025, 6, 1), "143"),
        (dt.date(2026, 6, 1), "163"),
    ],
)
def test_the_seeded_national_minimum_basic_pension_follows_the_year(on, amount):
    # DOMAIN §0.5 and §1.4: 123 in 2024, 143 in 2025, 163 in 2026 (never 143 for 2024).
    answer = param(BASIC, COUNTY, on=on)
    assert (answer.region_code, answer.decimal(), answer.unit) == (
        "000000",
        Decimal(amount),
        "yuan_per_month",
    )


def test_the_seeded_2025_basic_pension_is_marked_unconfirmed():
    # DOMAIN §1.4: 143 is inferred (123 + 20); §10 item 1.
    assert param(BASIC, COUNTY, on=dt.date(2025, 6, 1)).confidence == "unconfirmed"


def test_the_seeded_resident_pension_figures_are_those_of_domain_1_2_to_1_4():
    values = params_for(
        [
            "resident_pension.contribution_grades",
            "resident_pension.contribution_subsidy.minimum",
            "resident_pension.contribution_subsidy.higher_grade_threshold",
            "resident_pension.contribution_subsidy.higher_grade_minimum",
            "resident_pension.personal_account.payout_divisor",
            "resident_pension.proxy_payment.min_age",
            "resident_pension.proxy_payment.max_age",
        ],
        COUNTY,
        on=dt.date(2026, 6, 1),
    )
    grades = values["resident_pension.contribution_grades"].decimals()
    assert grades == tuple(
        Decimal(g) for g in (100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1500, 2000)
    )
    assert values["resident_pension.contribution_subsidy.minimum"].decimal() == 30  # §1.2 [S12]
    assert values["resident_pension.contribution_subsidy.higher_grade_threshold"].decimal() == 500
    assert values["resident_pension.contribution_subsidy.higher_grade_minimum"].decimal() == 60
    assert values["resident_pension.personal_account.payout_divisor"].decimal() == 139  # §1.4
    assert values["resident_pension.proxy_payment.min_age"].integer() == 16  # §0.5
    assert values["resident_pension.proxy_payment.max_age"].integer() == 59


def test_the_unconfirmed_rules_are_seeded_as_configurable_parameters_marked_unconfirmed():
    # DOMAIN §0.3 rounding, §0.4 pension start month, §2.3 first-cohort delay.
    on = dt.date(2026, 6, 1)
    assert param(ROUNDING, COUNTY, on=on).text() == "half_up"
    assert (
        param("resident_pension.benefit.start_month_rule", COUNTY, on=on).text() == "month_after_pension_age"
    )
    for key in (
        ROUNDING,
        "resident_pension.benefit.start_month_rule",
        "employee_pension.retirement.first_cohort_delay_months",
    ):
        assert param(key, COUNTY, on=on).confidence == "unconfirmed"


def test_the_seeded_unemployment_duration_table_is_that_of_domain_3_2():
    # DOMAIN §3.2 [S2 Art46, S3 Art17] (A)
    table = param("unemployment_benefit.duration_table", COUNTY, on=dt.date(2026, 6, 1)).table()
    assert [(row["min_years"], row["max_months"]) for row in table] == [(1, 12), (5, 18), (10, 24)]


def test_e21_retirement_rules_built_from_the_seeded_parameters_give_the_worked_example():
    # DOMAIN §2.3 and E21: a man born 1970-06 retires in 2031-11; 2035 needs 18 years.
    rules = retirement_rules(COUNTY, on=dt.date(2026, 6, 1))
    assert retirement_month(dt.date(1970, 6, 1), "male", rules) == (2031, 11)
    assert retirement_month(dt.date(1984, 11, 1), "female50", rules) == (2039, 11)
    assert minimum_contribution_years(2035, rules) == Decimal(18)


def test_every_row_of_the_seed_module_is_in_the_migrated_database():
    # A change to socialsec/core/parameter_seed.py needs a data migration; this notices when it has none.
    stored = {
        (p.region_code, p.key, p.effective_from.isoformat()): p
        for p in PolicyParameter.objects.filter(region_code="000000")
    }
    for row in SEED_ROWS:
        p = stored[(row["region_code"], row["key"], row["effective_from"])]
        assert (p.value, p.kind, p.unit, p.confidence, p.source_tag) == (
            row["value"],
            row["kind"],
            row["unit"],
            row["confidence"],
            row["source_tag"],
        ), row["key"]


def test_every_seeded_figure_carries_its_confidence_and_a_source_unless_unconfirmed():
    # DOMAIN "How to use this document": store source and confidence with each seeded parameter.
    for p in PolicyParameter.objects.all():
        p.full_clean()  # the value reads as its kind
        if p.confidence != "unconfirmed":
            assert p.source_tag or p.source_doc_no, p.key


# --- The database refuses what must never happen -----------------------------------------------

INSERT = """
    INSERT INTO core_policyparameter
        (region_code, scheme, key, kind, value, unit, effective_from, effective_to,
         source_url, source_doc_no, source_tag, confidence, note)
    VALUES (%s, 'resident_pension', %s, 'decimal', '"5"', 'yuan_per_month', %s, %s, '', '', '', 'B', '')
"""


def raw_insert(effective_from: str, effective_to: str | None, region: str = COUNTY, key: str = TOPUP) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(INSERT, [region, key, effective_from, effective_to])


class TestOverlapRefusedByTheDatabase:
    @pytest.fixture(autouse=True)
    def topup_2025(self):
        parameter(region=COUNTY, effective_from=dt.date(2025, 1, 1), effective_to=dt.date(2025, 12, 31))

    def test_an_overlapping_insert_in_raw_sql_is_refused(self):
        with pytest.raises(IntegrityError, match="overlaps another row"):
            raw_insert("2025-12-31", None)

    def test_a_row_starting_the_day_after_is_accepted(self):
        raw_insert("2026-01-01", None)
        assert param(TOPUP, COUNTY, on=dt.date(2026, 1, 1)).decimal() == Decimal(5)

    def test_a_row_inside_an_open_ended_row_is_refused(self):
        raw_insert("2026-01-01", None)
        with pytest.raises(IntegrityError, match="overlaps another row"):
            raw_insert("2030-01-01", "2030-12-31")

    def test_an_update_stretching_a_row_over_the_next_is_refused(self):
        raw_insert("2026-01-01", None)
        with pytest.raises(IntegrityError, match="overlaps another row"), transaction.atomic():
            PolicyParameter.objects.filter(region_code=COUNTY, key=TOPUP, effective_from="2025-01-01").update(
                effective_to=None
            )

    def test_the_same_dates_in_another_region_are_accepted(self):
        raw_insert("2025-01-01", "2025-12-31", region=NEIGHBOUR_COUNTY)

    def test_a_range_ending_before_it_starts_is_refused(self):
        with pytest.raises(IntegrityError, match="policy_parameter_dates_ordered"):
            raw_insert("2027-01-01", "2026-12-31")

    def test_a_key_outside_its_scheme_is_refused(self):
        with pytest.raises(IntegrityError, match="policy_parameter_key_starts_with_scheme"):
            raw_insert("2027-01-01", None, key="employee_pension.something")

    def test_a_form_is_told_about_the_overlap_before_the_database_refuses_it(self):
        row = PolicyParameter(
            scheme="resident_pension",
            key=TOPUP,
            region_code=COUNTY,
            kind="decimal",
            value="3",
            effective_from=dt.date(2025, 7, 1),
            confidence="B",
        )
        with pytest.raises(ValidationError) as error:
            row.full_clean()
        assert "effective_from" in error.value.message_dict

    def test_a_form_is_told_when_a_value_does_not_read_as_its_kind(self):
        row = PolicyParameter(
            scheme="resident_pension",
            key=TOPUP,
            region_code=COUNTY,
            kind="decimal",
            value=1.5,
            effective_from=dt.date(2027, 1, 1),
            confidence="B",
        )
        with pytest.raises(ValidationError) as error:
            row.full_clean()
        assert "value" in error.value.message_dict  # a float has already lost the fen


# --- Trace and query counts -------------------------------------------------------------------


def test_the_trace_records_exactly_the_rows_used_once_each_in_first_use_order():
    topup = parameter(region=COUNTY)
    basic = PolicyParameter.objects.get(key=BASIC, effective_from=dt.date(2025, 1, 1))
    with parameter_trace() as trace:
        param(TOPUP, COUNTY, on=dt.date(2025, 6, 1))
        param(BASIC, COUNTY, on=dt.date(2025, 6, 1))
        param(TOPUP, COUNTY, on=dt.date(2025, 7, 1))  # the same row again
    param(ROUNDING, COUNTY, on=dt.date(2025, 6, 1))  # after the block: not recorded
    assert trace.rows == [
        (topup.pk, TOPUP, COUNTY, dt.date(2025, 1, 1)),
        (basic.pk, BASIC, "000000", dt.date(2025, 1, 1)),
    ]


def test_the_trace_snapshot_is_json_and_keeps_the_values_used():
    topup = parameter(region=COUNTY)
    with parameter_trace() as trace:
        params_for([TOPUP, BASIC], COUNTY, on=dt.date(2025, 6, 1))
    snapshot = json.loads(json.dumps(trace.as_snapshot()))
    assert [(row["id"], row["key"], row["value"]) for row in snapshot] == [
        (topup.pk, TOPUP, "2"),
        (PolicyParameter.objects.get(key=BASIC, effective_from=dt.date(2025, 1, 1)).pk, BASIC, "143"),
    ]


def test_a_nested_trace_sees_its_own_reads_and_the_outer_trace_sees_all():
    parameter(region=COUNTY)
    with parameter_trace() as outer:
        param(BASIC, COUNTY, on=dt.date(2025, 6, 1))
        with parameter_trace() as inner:
            param(TOPUP, COUNTY, on=dt.date(2025, 6, 1))
    assert [row.key for row in inner.rows] == [TOPUP]
    assert [row.key for row in outer.rows] == [BASIC, TOPUP]


def test_params_for_fetches_many_keys_in_one_query(django_assert_num_queries):
    parameter(region=COUNTY)
    with django_assert_num_queries(1):
        values = params_for([BASIC, TOPUP, ROUNDING], COUNTY, on=dt.date(2025, 6, 1))
    assert (values[BASIC].region_code, values[TOPUP].region_code) == ("000000", COUNTY)


def test_retirement_rules_are_read_in_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):
        retirement_rules(COUNTY, on=dt.date(2026, 6, 1))


def test_params_for_names_the_missing_key():
    with pytest.raises(MissingParameter) as error:
        params_for([BASIC, TOPUP], COUNTY, on=dt.date(2025, 6, 1))
    assert error.value.details["key"] == TOPUP


def test_asking_for_the_wrong_type_is_a_programming_error():
    with pytest.raises(TypeError, match="is decimal, not text"):
        param(BASIC, COUNTY, on=dt.date(2025, 6, 1)).text()


# --- Admin and audit ------------------------------------------------------------------------------


@pytest.fixture
def admin_with_parameter_permissions(cast):
    # The admin role edits parameters (socialsec/core/roles.py); nobody deletes them.
    admin = type(cast.admin_ivy).objects.get(pk=cast.admin_ivy.pk)
    assert admin.has_perm("core.change_policyparameter") and not admin.has_perm("core.delete_policyparameter")
    return admin


ADMIN_FORM = {
    "scheme": "resident_pension",
    "key": TOPUP,
    "region_code": COUNTY,
    "kind": "decimal",
    "value": '"2"',
    "unit": "yuan_per_month",
    "effective_from": "2026-01-01",
    "source_tag": "",
    "source_doc_no": "南昌县人社发〔2026〕1号",
    "source_url": "",
    "confidence": "B",
    "note": "",
}


def test_an_admin_adds_a_county_parameter_in_the_admin(client, admin_with_parameter_permissions):
    client.force_login(admin_with_parameter_permissions)
    response = client.post("/admin/core/policyparameter/add/", ADMIN_FORM)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert param(TOPUP, COUNTY, on=dt.date(2026, 1, 1)).decimal() == Decimal(2)


def test_an_edit_in_the_admin_is_audited_with_the_admin_as_user(client, admin_with_parameter_permissions):
    row = parameter(region=COUNTY, effective_from=dt.date(2026, 1, 1))
    client.force_login(admin_with_parameter_permissions)
    response = client.post(f"/admin/core/policyparameter/{row.pk}/change/", {**ADMIN_FORM, "value": '"2.50"'})
    assert response.status_code == 302, response.content.decode()[:2000]
    event = row.events.get(pgh_label="update")
    assert event.value == "2.50"
    assert event.pgh_context.metadata["user"] == admin_with_parameter_permissions.pk


def test_the_admin_form_refuses_an_overlapping_row_with_a_message(client, admin_with_parameter_permissions):
    parameter(region=COUNTY, effective_from=dt.date(2025, 1, 1))
    client.force_login(admin_with_parameter_permissions)
    with translation.override("en"):
        response = client.post("/admin/core/policyparameter/add/", ADMIN_FORM, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert PolicyParameter.objects.filter(key=TOPUP).count() == 1
    assert response.context["adminform"].form.errors["effective_from"]


def test_a_clerk_cannot_open_the_parameters_in_the_admin(client, cast):
    client.force_login(cast.maker_ann)
    assert client.get("/admin/core/policyparameter/").status_code == 302  # not staff
