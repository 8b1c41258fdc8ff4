"""factory_boy factories for the foundation models; app issues add tests/<app>/factories.py."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth.models import Group

from enrollment.choices import HouseholdRegistrationType, Sex
from enrollment.models import Household, Person
from socialsec.core.choices import DivisionKind, DivisionLevel
from socialsec.core.models import AdministrativeDivision, TownshipAssignment, User
from socialsec.lib.resident_id import build_resident_id

COUNTY_CODE = "360121"


class CountyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdministrativeDivision
        django_get_or_create = ("code",)

    code = f"{COUNTY_CODE}000000"
    name = "南昌县"
    level = DivisionLevel.COUNTY
    kind = DivisionKind.COUNTY


class TownshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdministrativeDivision
        django_get_or_create = ("code",)

    # Towns 100-999 cycle, so a long test run never makes a code longer than 12 digits.
    code = factory.Sequence(lambda n: f"{COUNTY_CODE}{100 + n % 900:03d}000")
    name = factory.Sequence(lambda n: f"第{n + 1}镇")
    level = DivisionLevel.TOWNSHIP
    kind = DivisionKind.TOWN
    parent = factory.SubFactory(CountyFactory)


class VillageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdministrativeDivision
        django_get_or_create = ("code",)

    parent = factory.SubFactory(TownshipFactory)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.parent.code[:9]}{200 + n % 199:03d}")
    name = factory.Sequence(lambda n: f"第{n + 1}村委会")
    level = DivisionLevel.VILLAGE
    kind = DivisionKind.VILLAGERS_COMMITTEE


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct horse battery")

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=extracted))

    @factory.post_generation
    def townships(
        self, create: bool, extracted: list[AdministrativeDivision] | None, **kwargs: object
    ) -> None:
        if create and extracted:
            for township in extracted:
                TownshipAssignment.objects.get_or_create(user=self, township=township)


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    number = factory.Sequence(lambda n: f"H{n:08d}")
    village = factory.SubFactory(VillageFactory)
    township = factory.LazyAttribute(lambda o: o.village.parent)
    registration_type = HouseholdRegistrationType.RURAL


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    birth_date = dt.date(1960, 3, 15)
    sex = Sex.MALE
    # Sequence numbers are odd for men, even for women (DOMAIN §6.1).
    id_number = factory.LazyAttributeSequence(
        lambda o, n: build_resident_id(
            COUNTY_CODE, o.birth_date, (2 * n + (1 if o.sex == Sex.MALE else 2)) % 1000
        )
    )
    name = factory.Sequence(lambda n: f"张{n}")
    registration_type = HouseholdRegistrationType.RURAL
    village = factory.SubFactory(VillageFactory)
    township = factory.LazyAttribute(lambda o: o.village.parent)
