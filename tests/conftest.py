"""The named cast of every test: townships A and B, one person per role.

maker_ann (clerk), checker_ben (section chief), approver_cai (leader in charge),
accountant_dan and cashier_fay (finance) work in Township A; outsider_eve is a
clerk in Township B; auditor_gus, leader_hua (county leader) and admin_ivy are
county-wide; unassigned_joe is a clerk with no township at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from socialsec.core.choices import Role
from socialsec.core.models import AdministrativeDivision, User
from tests.factories import CountyFactory, PersonFactory, TownshipFactory, UserFactory, VillageFactory


@dataclass
class Cast:
    county: AdministrativeDivision
    township_a: AdministrativeDivision
    township_b: AdministrativeDivision
    village_a: AdministrativeDivision
    village_b: AdministrativeDivision
    maker_ann: User
    checker_ben: User
    approver_cai: User
    accountant_dan: User
    cashier_fay: User
    outsider_eve: User
    auditor_gus: User
    leader_hua: User
    admin_ivy: User
    unassigned_joe: User


@pytest.fixture
def cast(db: None) -> Cast:
    county = CountyFactory()
    township_a = TownshipFactory(code="360121100000", name="莲塘镇", parent=county)
    township_b = TownshipFactory(code="360121101000", name="向塘镇", parent=county)
    village_a = VillageFactory(code="360121100201", name="东山村委会", parent=township_a)
    village_b = VillageFactory(code="360121101201", name="西湖村委会", parent=township_b)

    def staff(
        username: str,
        roles: list[str],
        townships: list[AdministrativeDivision] | None = None,
        county_wide: bool = False,
        is_staff: bool = False,
    ) -> User:
        return UserFactory(
            username=username,
            roles=roles,
            townships=townships or [],
            county_wide=county_wide,
            is_staff=is_staff,
        )

    return Cast(
        county=county,
        township_a=township_a,
        township_b=township_b,
        village_a=village_a,
        village_b=village_b,
        maker_ann=staff("maker_ann", [Role.CLERK], [township_a]),
        checker_ben=staff("checker_ben", [Role.SECTION_CHIEF], [township_a]),
        approver_cai=staff("approver_cai", [Role.LEADER_IN_CHARGE], [township_a]),
        accountant_dan=staff("accountant_dan", [Role.FINANCE, Role.ACCOUNTANT], [township_a]),
        cashier_fay=staff("cashier_fay", [Role.FINANCE, Role.CASHIER], [township_a]),
        outsider_eve=staff("outsider_eve", [Role.CLERK], [township_b]),
        auditor_gus=staff("auditor_gus", [Role.AUDITOR], county_wide=True),
        leader_hua=staff("leader_hua", [Role.COUNTY_LEADER], county_wide=True),
        admin_ivy=staff("admin_ivy", [Role.ADMIN], county_wide=True, is_staff=True),
        unassigned_joe=staff("unassigned_joe", [Role.CLERK]),
    )


@pytest.fixture
def person_in_a(cast: Cast):
    return PersonFactory(village=cast.village_a, name="李明")


@pytest.fixture
def person_in_b(cast: Cast):
    return PersonFactory(village=cast.village_b, name="王芳")


class ApiClient(APIClient):
    def as_user(self, user: User) -> ApiClient:
        self.force_authenticate(user=user)
        return self


@pytest.fixture
def api() -> ApiClient:
    return ApiClient()


@pytest.fixture
def english_messages():
    """English as the default language, for tests that read a service's refusal by its wording.

    Pages and the API choose the language per request (LocaleMiddleware); this only changes
    what a direct service call renders. Opt in with pytest.mark.usefixtures("english_messages").
    """
    from django.utils import translation

    with translation.override("en"):
        yield


# Transactional tests (real commits: threads, a Celery worker, the seeder) empty every table when
# they end, the policy parameters of the data migrations included; services and the seeder read them.
_migrated_parameters: list[dict] = []


@pytest.fixture(autouse=True)
def migrated_parameters(request: pytest.FixtureRequest) -> None:
    """Before a transactional test, put back the policy parameters an earlier one emptied."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or bool(
        marker and marker.kwargs.get("transaction")
    )
    if not transactional:
        return
    request.getfixturevalue("transactional_db")
    from django.core.management.color import no_style
    from django.db import connection

    from socialsec.core.models import PolicyParameter

    if PolicyParameter.objects.exists():
        # The first transactional test of a session finds the migrated rows: keep a copy.
        if not _migrated_parameters:
            _migrated_parameters.extend(PolicyParameter.objects.values())
        return
    PolicyParameter.objects.bulk_create(PolicyParameter(**row) for row in _migrated_parameters)
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), [PolicyParameter]):
            cursor.execute(statement)
