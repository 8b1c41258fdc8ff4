"""DOMAIN E22 end to end: a payout roster with segregation of duties, a partial payment, the re-issue.

1. Clerk A generates the October roster for township 108: 1,203 lines, total 215,340.00.
2. A tries to sign as section chief: forbidden (the maker cannot be the checker).
3. Section chief B checks; leader in charge C approves.
4. Accountant D prepares the payment instruction; cashier E, not D, releases it.
5. The bank's receipt shows 2 failed lines (account closed): they become FAILED and the roster
   PARTIALLY_PAID; once the accounts are corrected the 2 people are paid on November's roster.
6. Σ paid + Σ failed = roster total.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from benefits import services
from benefits.choices import BenefitProgramme
from enrollment.models import Person
from socialsec.core.models import TownshipAssignment, User
from socialsec.rosters.choices import BankResult, RosterStatus
from socialsec.rosters.services import BankLineResult, LineInput
from tests.factories import PersonFactory, TownshipFactory, VillageFactory

pytestmark = pytest.mark.django_db

OCTOBER, NOVEMBER = dt.date(2025, 10, 1), dt.date(2025, 11, 1)


@pytest.fixture
def township_108(cast):
    township = TownshipFactory(code="360121108000", name="武阳镇", parent=cast.county)
    for user in (cast.maker_ann, cast.checker_ben, cast.approver_cai, cast.accountant_dan, cast.cashier_fay):
        TownshipAssignment.objects.create(user=user, township=township)
    return township


def persons_of(township, count: int) -> list[Person]:
    village = VillageFactory(parent=township, code=f"{township.code[:9]}201")
    built = [
        PersonFactory.build(
            village=village,
            township=township,
            birth_date=dt.date(1950, 1, 1) + dt.timedelta(days=index),
            bank_account_number=f"6217{index:015d}",
            bank_name="农商银行",
        )
        for index in range(count)
    ]
    return Person.objects.bulk_create(built)


def as_user(api, user):
    return api.as_user(User.objects.get(pk=user.pk))


def test_e22_payout_roster_with_segregation_of_duties(api, cast, township_108):
    a, b, c, d, e = cast.maker_ann, cast.checker_ben, cast.approver_cai, cast.accountant_dan, cast.cashier_fay
    persons = persons_of(township_108, 1203)
    # 1. 1,202 lines of 179.00 and one of 182.00: 215,340.00.
    amounts = [Decimal("179.00")] * 1202 + [Decimal("182.00")]
    lines = [LineInput(person_id=p.pk, basic=amount) for p, amount in zip(persons, amounts, strict=True)]
    roster = services.payout_roster_create_draft(
        programme=BenefitProgramme.RESIDENT_PENSION,
        period=OCTOBER,
        township_id=township_108.pk,
        lines=lines,
        by=a,
    )
    assert as_user(api, a).post(f"/api/rosters/{roster.pk}/submit/").status_code == 200
    body = as_user(api, a).get(f"/api/rosters/{roster.pk}/").json()
    assert (body["total_persons"], body["total_amount"]) == (1203, "215340.00")
    assert len(body["digest"]) == 64

    # 2. The maker signing as checker is forbidden: A has no checker's role, and even one who had it
    #    may not check a roster they made.
    response = as_user(api, a).post(f"/api/rosters/{roster.pk}/check/")
    assert response.status_code == 403

    # 3.-4. B checks, C approves, D prepares the payment instruction, E (not D) releases it.
    for user, step in ((b, "check"), (c, "approve"), (d, "prepare-payment")):
        assert as_user(api, user).post(f"/api/rosters/{roster.pk}/{step}/").status_code == 200
    refused = as_user(api, d).post(f"/api/rosters/{roster.pk}/pay/")
    assert refused.status_code == 403  # the accountant may not release what she prepared
    released = as_user(api, e).post(f"/api/rosters/{roster.pk}/pay/").json()
    assert released["status"] == "paying"
    signatures = {post["post"]: post["by"]["username"] for post in released["posts"]}
    assert signatures == {
        "maker": "maker_ann",
        "checker": "checker_ben",
        "approver": "approver_cai",
        "accountant": "accountant_dan",
        "cashier": "cashier_fay",
    }
    assert len(set(signatures.values())) == 5

    # 5. The bank's receipt: the last 2 lines failed, account closed.
    results = [
        BankLineResult(seq, seq <= 1201, "" if seq <= 1201 else "账户已销户") for seq in range(1, 1204)
    ]
    roster = services.payout_roster_record_bank_receipt(roster_id=roster.pk, results=results, by=d)
    assert roster.status == RosterStatus.PARTIALLY_PAID
    failed = list(roster.lines.filter(bank_status=BankResult.FAILED).order_by("seq"))
    assert [line.seq for line in failed] == [1202, 1203]
    assert (roster.failed_persons, roster.failed_amount) == (2, Decimal("361.00"))
    assert (roster.paid_persons, roster.paid_amount) == (1201, Decimal("214979.00"))
    # 6. Σ paid + Σ failed = roster total.
    assert roster.paid_amount + roster.failed_amount == roster.total_amount == Decimal("215340.00")

    # 5 (cont.). Accounts corrected, the 2 people are paid October as back-pay on November's roster.
    november_lines = [
        LineInput(
            person_id=line.person_id,
            back_pay=line.net,
            account_number=f"6228{line.seq:015d}",
            bank_name="农业银行",
            period=OCTOBER,
            reissue_of_id=line.pk,
        )
        for line in failed
    ]
    november = services.payout_roster_create_draft(
        programme=BenefitProgramme.RESIDENT_PENSION,
        period=NOVEMBER,
        township_id=township_108.pk,
        lines=november_lines,
        by=a,
    )
    reissued = list(november.lines.order_by("seq").values_list("reissue_of_id", "back_pay", "period"))
    assert reissued == [
        (failed[0].pk, Decimal("179.00"), OCTOBER),
        (failed[1].pk, Decimal("182.00"), OCTOBER),
    ]
