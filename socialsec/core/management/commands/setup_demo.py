"""Load the demo county when the database is empty, and one demo user per role."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from socialsec.core.choices import DivisionLevel, Role
from socialsec.core.models import AdministrativeDivision, TownshipAssignment, User
from socialsec.core.seeding import busiest_township_id

DEMO_PASSWORD = "socialsec-demo"  # noqa: S105 - documented demo credential, printed and in the README

# (username, roles, county-wide?) — township staff work in the largest township.
DEMO_USERS: list[tuple[str, list[str], bool]] = [
    ("clerk", [Role.CLERK], False),
    ("chief", [Role.SECTION_CHIEF], False),
    ("leader", [Role.LEADER_IN_CHARGE], False),
    ("accountant", [Role.FINANCE, Role.ACCOUNTANT], False),
    ("cashier", [Role.FINANCE, Role.CASHIER], False),
    ("auditor", [Role.AUDITOR], True),
    ("county", [Role.COUNTY_LEADER], True),
    ("admin", [Role.ADMIN], True),
]


class Command(BaseCommand):
    help = "Seed the demo county if the registry is empty and (re)create the demo users."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--persons", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, persons: int, seed: int, **options: Any) -> None:
        if not AdministrativeDivision.objects.filter(level=DivisionLevel.TOWNSHIP).exists():
            self.stdout.write(f"Empty database: loading a demo county of {persons} persons…")
            call_command("seed_county", persons=persons, seed=seed, stdout=self.stdout)
        else:
            self.stdout.write("The database already has a county; leaving its data as it is.")
        township = self._busiest_township()
        with transaction.atomic():
            for username, roles, county_wide in DEMO_USERS:
                self._ensure_user(username, roles, county_wide, township)
        self.stdout.write(self.style.SUCCESS(f"Demo users (password for all: {DEMO_PASSWORD}):"))
        for username, roles, county_wide in DEMO_USERS:
            where = "whole county" if county_wide else f"{township.name} ({township.code})"
            self.stdout.write(f"  {username:<11} {'+'.join(roles):<22} {where}")

    def _busiest_township(self) -> AdministrativeDivision:
        township_id = busiest_township_id()
        if township_id is not None:
            return AdministrativeDivision.objects.get(pk=township_id)
        return AdministrativeDivision.objects.filter(level=DivisionLevel.TOWNSHIP).order_by("code").first()

    def _ensure_user(
        self, username: str, roles: list[str], county_wide: bool, township: AdministrativeDivision
    ) -> None:
        from django.contrib.auth.models import Group

        user, _ = User.objects.get_or_create(username=username)
        user.set_password(DEMO_PASSWORD)
        user.county_wide = county_wide
        user.is_staff = Role.ADMIN in roles
        # Never a superuser: a superuser passes every permission check, segregation of duties included.
        user.is_superuser = False
        user.save()
        user.groups.set(Group.objects.filter(name__in=roles))
        if not county_wide:
            TownshipAssignment.objects.get_or_create(user=user, township=township)
