"""factory_boy factories for organizations and fee relief (减免缓)."""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal

import factory
from django.apps import apps as django_apps
from django.utils import timezone

from enrollment.choices import FeeReliefKind, FeeReliefScheme, SizeClass
from enrollment.models import FeeReliefApplication, FeeReliefPolicy, Organization, month_count
from socialsec.lib.credit_code import check_character
from tests.factories import COUNTY_CODE, TownshipFactory, UserFactory


def build_credit_code(prefix: str, organization_code: str, division: str = COUNTY_CODE) -> str:
    """A code with a correct position-18 check character (DOMAIN §6.2)."""
    first17 = f"{prefix}{division}{organization_code}"
    return first17 + check_character(first17)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    credit_code = factory.Sequence(lambda n: build_credit_code("91", f"MA{n:07d}"))
    registration_authority = factory.LazyAttribute(lambda o: o.credit_code[0])
    entity_type = factory.LazyAttribute(lambda o: o.credit_code[1])
    name = factory.Sequence(lambda n: f"第{n + 1}有限公司")
    size_class = SizeClass.SMALL
    size_class_basis = "工信部联企业〔2011〕300号"
    size_class_year = 2019
    industry = "制造业"
    township = factory.SubFactory(TownshipFactory)


class FeeReliefPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeeReliefPolicy

    name = factory.Sequence(lambda n: f"减免政策{n}")
    kind = FeeReliefKind.EXEMPTION
    size_classes = factory.LazyFunction(lambda: [SizeClass.SMALL, SizeClass.MICRO])
    schemes = factory.LazyFunction(lambda: list(FeeReliefScheme.values))
    period_from = dt.date(2020, 2, 1)
    period_to = dt.date(2020, 12, 1)
    rate = Decimal("1.0000")
    source = "S43"
    confidence = "B"


class FeeReliefApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeeReliefApplication

    organization = factory.SubFactory(OrganizationFactory)
    policy = factory.SubFactory(FeeReliefPolicyFactory)
    kind = factory.LazyAttribute(lambda o: o.policy.kind)
    period_from = dt.date(2020, 2, 1)
    period_to = dt.date(2020, 12, 1)
    months = factory.LazyAttribute(lambda o: month_count(o.period_from, o.period_to))
    rate = factory.LazyAttribute(lambda o: o.policy.rate)
    waives_late_fee = factory.LazyAttribute(lambda o: o.policy.waives_late_fee)
    filed_by = factory.SubFactory(UserFactory)
    filed_at = factory.LazyFunction(timezone.now)


def seed_2020_policies() -> dict[str, FeeReliefPolicy]:
    """The rows of the E23 seed migration, by kind (re-run: transactional tests flush the tables)."""
    migration = importlib.import_module("enrollment.migrations.0004_seed_2020_fee_relief")
    migration.seed(django_apps, None)
    names = [row["name"] for row in migration.POLICIES]
    return {policy.kind: policy for policy in FeeReliefPolicy.objects.filter(name__in=names)}
