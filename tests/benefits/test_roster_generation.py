"""Generating a month's payout roster from the paying entitlements (issue 4 "Rosters"; DOMAIN §1.4,
§8.2, §8.3, E1, E4, E9, E10): amounts computed in SQL equal the Python rule to the fen, back-pay of
restored months once, stop on death, one roster per month (409 naming it), and POST /api/rosters/.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benefits import services
from benefits.calculations import resident_pension_amount
from benefits.choices import BenefitProgramme
from benefits.entitlements import StopReason, SuspensionReason
from benefits.models import PayoutLine
from enrollment.choices import CardStatus
from enrollment.models import Person
from socialsec.core.choices import Role
from socialsec.core.exceptions import InvalidState
from socialsec.core.models import User
from tests.benefits.entitlement_factories import COUNTY, paying, pensioner
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
RP = BenefitProgramme.RESIDENT_PENSION


def generate(cast, month, township="a", by=None):
    township_id = {"a": cast.township_a.pk, "b": cast.township_b.pk, None: None}[township]
    return services.roster_generate(
        programme=RP, month=month, township_id=township_id, by=by or cast.maker_ann
    )


def lines(roster) -> dict[int, PayoutLine]:
    return {line.person_id: line for line in roster.lines.all()}


def test_e1_e4_line_amounts_equal_the_python_rule_to_the_fen(cast):
    balances = ["3000.00", "50000.00", "1234.56", "0.00", "999.99"]
    persons = [pensioner(cast, balance=balance) for balance in balances]
    for person in persons:
        paying(cast, person, start_month=dt.date(2024, 6, 1))
    for month in (dt.date(2024, 10, 1), dt.date(2025, 10, 1)):
        roster = generate(cast, month)
        by_person = lines(roster)
        assert len(by_person) == len(persons)
        for person, balance in zip(persons, balances, strict=True):
            expected = resident_pension_amount(
                region=COUNTY, month=month, account_balance=Decimal(balance), contribution_years=15
            )
            line = by_person[person.pk]
            assert (line.basic, line.account, line.top_up) == (
                expected.components["basic_pension"],
                expected.components["account_pension"],
                expected.components["long_contribution_topup"],
            )
            assert line.net == expected.amount
            assert line.account_number == person.bank_account_number
        assert roster.total_persons == len(persons)
        assert roster.total_amount == sum(line.net for line in by_person.values())
    # E4: 50,000 in 2024 → 482.71; E1: 3,000 in 2025 → 164.58.
    assert lines(generate(cast, dt.date(2024, 11, 1)))[persons[1].pk].net == Decimal("482.71")
    assert lines(generate(cast, dt.date(2025, 11, 1)))[persons[0].pk].net == Decimal("164.58")


def test_the_long_contribution_top_up_is_computed_in_sql_where_the_county_switched_it_on(cast):
    from tests.benefits.test_calculations_parameters import set_parameter

    person = pensioner(cast, years=20, balance="3000.00")
    paying(cast, person)
    set_parameter("resident_pension.long_contribution_topup.enabled", COUNTY, True, kind="boolean")
    set_parameter("resident_pension.long_contribution_topup.per_year", COUNTY, "2.50")
    line = lines(generate(cast, dt.date(2025, 10, 1)))[person.pk]
    expected = resident_pension_amount(
        region=COUNTY, month=dt.date(2025, 10, 1), account_balance=Decimal("3000.00"), contribution_years=20
    )
    assert line.top_up == expected.components["long_contribution_topup"] > 0
    assert line.net == expected.amount


def test_a_second_generation_of_the_month_is_refused_naming_the_roster(cast):
    paying(cast, pensioner(cast))
    first = generate(cast, dt.date(2025, 10, 1))
    with pytest.raises(InvalidState) as refused:
        generate(cast, dt.date(2025, 10, 1))
    assert refused.value.details["number"] == first.number
    assert first.number in str(refused.value.message)
    # A county roster of the same month would overlap it too.
    county_clerk = UserFactory(username="county_clerk", roles=[Role.CLERK], county_wide=True)
    with pytest.raises(InvalidState):
        generate(cast, dt.date(2025, 10, 1), township=None, by=county_clerk)


def test_only_the_townships_paying_entitlements_are_on_its_roster(cast):
    chief_b = UserFactory(username="chief_b", roles=[Role.SECTION_CHIEF], townships=[cast.township_b])
    in_a = pensioner(cast)
    in_b = pensioner(cast, village=cast.village_b)
    applied_only = pensioner(cast)
    paying(cast, in_a)
    paying(cast, in_b, chief=chief_b)
    services.entitlement_apply(person_id=applied_only.pk, programme=RP, by=cast.maker_ann)
    assert set(lines(generate(cast, dt.date(2025, 10, 1)))) == {in_a.pk}
    assert set(lines(generate(cast, dt.date(2025, 10, 1), township="b", by=cast.outsider_eve))) == {in_b.pk}


def test_e10_suspended_months_are_back_paid_once_on_the_next_roster(cast):
    person = pensioner(cast)
    entitlement = paying(cast, person)
    monthly = Decimal("164.58")
    june = lines(generate(cast, dt.date(2025, 6, 1)))[person.pk]
    assert (june.net, june.back_pay) == (monthly, 0)
    services.entitlement_suspend(
        entitlement_id=entitlement.pk,
        by=cast.checker_ben,
        reason=SuspensionReason.CERTIFICATION_MISSED,
        month=dt.date(2025, 7, 1),
    )
    assert person.pk not in lines(generate(cast, dt.date(2025, 7, 1)))
    assert person.pk not in lines(generate(cast, dt.date(2025, 8, 1)))
    restored = services.entitlement_restore(
        entitlement_id=entitlement.pk, by=cast.checker_ben, month=dt.date(2025, 9, 1)
    )
    assert restored.backpay_months == ["2025-07-01", "2025-08-01"]
    assert restored.backpay_amount == 2 * monthly
    september = lines(generate(cast, dt.date(2025, 9, 1)))[person.pk]
    assert (september.back_pay, september.net) == (2 * monthly, 3 * monthly)
    assert september.entitlement_id == entitlement.pk
    october = lines(generate(cast, dt.date(2025, 10, 1)))[person.pk]
    assert (october.back_pay, october.net) == (0, monthly)


def test_back_pay_waits_for_the_next_roster_that_counts_when_one_is_cancelled(cast):
    person = pensioner(cast)
    entitlement = paying(cast, person)
    services.entitlement_suspend(
        entitlement_id=entitlement.pk,
        by=cast.checker_ben,
        reason=SuspensionReason.OTHER,
        month=dt.date(2025, 7, 1),
    )
    services.entitlement_restore(
        entitlement_id=entitlement.pk, by=cast.checker_ben, month=dt.date(2025, 8, 1)
    )
    august = generate(cast, dt.date(2025, 8, 1))
    services.payout_roster_cancel(roster_id=august.pk, by=cast.maker_ann, reason="重新生成")
    again = lines(generate(cast, dt.date(2025, 8, 1)))[person.pk]
    assert again.back_pay == Decimal("164.58")


def test_e9_a_person_stopped_on_death_leaves_the_rosters_and_the_overpaid_months_are_listed(cast):
    person = pensioner(cast)
    entitlement = paying(cast, person, start_month=dt.date(2025, 1, 1))
    for month in (3, 4, 5, 6):
        generate(cast, dt.date(2025, month, 1))
    person.death_date = dt.date(2025, 3, 10)
    person.save(update_fields=["death_date"])
    # Not yet stopped: generation already leaves out the months after the last payable one.
    assert person.pk not in lines(generate(cast, dt.date(2025, 7, 1)))
    stopped = services.entitlement_stop(
        entitlement_id=entitlement.pk, by=cast.checker_ben, reason=StopReason.DEATH
    )
    result = stopped.snapshot["stop"]["result"]
    # E9: stop from 2025-04; April–June were paid after death: 3 × 164.58.
    assert result["overpaid_months"] == ["2025-04-01", "2025-05-01", "2025-06-01"]
    assert Decimal(result["overpaid"]) == 3 * Decimal("164.58")
    assert person.pk not in lines(generate(cast, dt.date(2025, 8, 1)))


def test_an_approved_entitlement_whose_start_month_comes_starts_paying_at_generation(cast):
    person = pensioner(cast, birth_date=dt.date(1966, 1, 20))
    entitlement = services.entitlement_apply(
        person_id=person.pk, programme=RP, start_month=dt.date(2026, 3, 1), by=cast.maker_ann
    )
    services.entitlement_review(entitlement_id=entitlement.pk, by=cast.checker_ben)
    services.entitlement_approve(entitlement_id=entitlement.pk, by=cast.checker_ben)
    assert person.pk not in lines(generate(cast, dt.date(2026, 2, 1)))
    assert person.pk in lines(generate(cast, dt.date(2026, 3, 1)))
    entitlement.refresh_from_db()
    assert entitlement.status == "paying"


# --- POST /api/rosters/ --------------------------------------------------------------------------------


def fresh(api, user):
    return api.as_user(User.objects.get(pk=user.pk))


def post(api, user, **body):
    data = {"programme": RP, "period": "2025-10", "township": "360121100000", **body}
    return fresh(api, user).post("/api/rosters/", data, format="json")


def test_api_a_clerk_generates_the_roster_201(api, cast):
    paying(cast, pensioner(cast))
    response = post(api, cast.maker_ann)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["period"], body["total_persons"], body["total_amount"]) == (
        "draft",
        "2025-10",
        1,
        "164.58",
    )
    assert body["township"]["code"] == "360121100000"


def test_api_bad_input_is_400(api, cast):
    assert post(api, cast.maker_ann, period="2025-13").status_code == 400
    assert post(api, cast.maker_ann, programme="pocket_money").status_code == 400


def test_api_a_section_chief_may_not_generate_403(api, cast):
    response = post(api, cast.checker_ben)
    assert (response.status_code, response.json()["rule"]) == (403, "role")


def test_api_another_townships_roster_is_404(api, cast):
    assert post(api, cast.outsider_eve).status_code == 404
    assert post(api, cast.maker_ann, township="360121999000").status_code == 404


def test_api_a_second_roster_of_the_month_is_409_naming_the_first(api, cast):
    paying(cast, pensioner(cast))
    first = post(api, cast.maker_ann).json()
    response = post(api, cast.maker_ann)
    assert (response.status_code, response.json()["number"]) == (409, first["number"])


def test_api_generation_runs_the_same_queries_for_2_and_12_payees(api, cast):
    def generate_counting(period: str) -> tuple[int, int]:
        client = fresh(api, cast.maker_ann)
        body = {"programme": RP, "period": period, "township": "360121100000"}
        with CaptureQueriesContext(connection) as captured:
            response = client.post("/api/rosters/", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()["total_persons"], len(captured)

    for _ in range(2):
        paying(cast, pensioner(cast))
    small, small_queries = generate_counting("2025-10")
    for _ in range(10):
        paying(cast, pensioner(cast))
    large, large_queries = generate_counting("2025-11")
    assert (small, large) == (2, 12)
    assert small_queries == large_queries


# --- Re-issue of lines that failed at the bank (issue 4 "Payment"; DOMAIN §8.3) ----------------------


def test_a_line_failed_at_the_bank_is_reissued_once_by_reference_after_the_account_is_corrected(cast):
    """DOMAIN §8.3 (receipt round trip), E22 step 5: a line the bank refused is re-issued, by reference
    and with its amounts, on a later month's roster once the account is corrected; not while the
    refused account is still on record, and never twice."""
    from socialsec.rosters.choices import BankResult, RosterStatus
    from tests.rosters.factories import advance, settle

    persons = [pensioner(cast) for _ in range(2)]
    for person in persons:
        paying(cast, person, start_month=dt.date(2025, 1, 1))
    may = generate(cast, dt.date(2025, 5, 1))
    settle(advance(may, cast, RosterStatus.PAYING), cast, failed=1)
    failed = PayoutLine.objects.get(roster=may, bank_status=BankResult.FAILED)

    # The account the bank refused is still on record: re-issuing would fail again.
    june = generate(cast, dt.date(2025, 6, 1))
    assert june.lines.filter(reissue_of__isnull=False).count() == 0
    services.payout_roster_cancel(roster_id=june.pk, by=cast.maker_ann, reason="账户待更正")

    Person.objects.filter(pk=failed.person_id).update(bank_account_number="6217000000000999888")
    june = generate(cast, dt.date(2025, 6, 1))

    reissue = june.lines.get(reissue_of=failed)
    assert (reissue.person_id, reissue.period, reissue.net) == (
        failed.person_id,
        dt.date(2025, 5, 1),
        failed.net,
    )
    assert reissue.account_number == "6217000000000999888"
    assert june.total_persons == 3
    assert june.total_amount == sum(line.net for line in june.lines.all())

    # Once only: the next month re-issues nothing, whatever happens to June.
    settle(advance(june, cast, RosterStatus.PAYING), cast)
    july = generate(cast, dt.date(2025, 7, 1))
    assert july.lines.filter(reissue_of__isnull=False).count() == 0
    assert july.total_persons == 2


def test_a_line_pays_the_bank_account_else_the_social_security_card_and_nobody_without_either(cast):
    """DOMAIN §8.3: the social-security card is the credential and has a financial function
    [S1 Art7, Art62]; the bank file needs the card or account number. A payee's bank account is
    used when there is one, else the card; a payee with neither gets no line (nothing to pay to)."""
    with_account, card_only, neither = (pensioner(cast) for _ in range(3))
    for person in (with_account, card_only, neither):
        paying(cast, person, start_month=dt.date(2025, 1, 1))
    Person.objects.filter(pk=card_only.pk).update(
        bank_account_number="", bank_name="", card_number="360121900000000001", card_status=CardStatus.ACTIVE
    )
    Person.objects.filter(pk=neither.pk).update(bank_account_number="", bank_name="")

    by_person = lines(generate(cast, dt.date(2025, 6, 1)))

    assert set(by_person) == {with_account.pk, card_only.pk}
    assert (by_person[with_account.pk].account_number, by_person[with_account.pk].bank_name) == (
        with_account.bank_account_number,
        "农商银行",
    )
    assert (by_person[card_only.pk].account_number, by_person[card_only.pk].bank_name) == (
        "360121900000000001",
        "",
    )
