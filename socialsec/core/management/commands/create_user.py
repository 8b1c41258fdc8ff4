"""Create or update a member of staff with their roles and townships, from the shell.

    manage.py create_user li_ming --role clerk --township 360121100000 --password-stdin
    manage.py create_user zhao_gang --role finance --role accountant --county --password-stdin

The command states the whole of what the user should be: running it again with the
same arguments changes nothing, and with other roles or townships it replaces them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, TextIO

import pghistory
from django.contrib.auth import password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from socialsec.core.choices import DivisionLevel, Role
from socialsec.core.models import AdministrativeDivision, TownshipAssignment, User
from socialsec.core.roles import FINANCE_POSTS
from socialsec.lib.divisions import is_valid_division_code


@dataclass(frozen=True)
class _Wanted:
    username: str
    roles: frozenset[str]
    townships: tuple[AdministrativeDivision, ...]
    county_wide: bool
    password: str | None
    email: str | None


class Command(BaseCommand):
    help = "Create or update a staff user: roles, townships (or the whole county), password and email."
    stealth_options = ("stdin",)  # tests hand in the password stream, as createsuperuser's do

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--role", action="append", dest="roles", metavar="ROLE",
            help=f"Repeat for each role: {', '.join(Role.values)}. accountant and cashier imply finance.",
        )
        parser.add_argument(
            "--township", action="append", dest="townships", metavar="CODE",
            help="12-digit code of a township the user works for; repeat for several.",
        )
        parser.add_argument("--county", action="store_true", help="The user works for the whole county.")
        parser.add_argument(
            "--password-stdin", action="store_true", help="Read the password from standard input."
        )
        parser.add_argument("--password", help="The password (visible to other users of this machine).")
        parser.add_argument("--email")

    def handle(self, *args: Any, **options: Any) -> None:
        wanted = self._read_options(options)
        # The audit trail records that these rows came from this command, not from a request.
        with transaction.atomic(), pghistory.context(command="create_user"):
            summary = _apply(wanted)
        self.stdout.write(summary)

    def _read_options(self, options: dict[str, Any]) -> _Wanted:
        username = options["username"].strip()
        try:
            User.username_validator(username)
        except ValidationError as error:
            raise CommandError(_('Invalid username "%(username)s": %(reason)s')
                               % {"username": username, "reason": " ".join(error.messages)}) from error
        return _Wanted(
            username=username,
            roles=_roles(options["roles"] or []),
            townships=_townships(options["townships"] or [], county=options["county"]),
            county_wide=options["county"],
            password=_password(options, options.get("stdin") or sys.stdin),
            email=_email(options["email"]),
        )


def _roles(names: list[str]) -> frozenset[str]:
    if not names:
        raise CommandError(_("Give at least one --role (%(roles)s).") % {"roles": ", ".join(Role.values)})
    unknown = sorted(set(names) - set(Role.values))
    if unknown:
        raise CommandError(
            _("Unknown role %(unknown)s. Roles are: %(roles)s.")
            % {"unknown": ", ".join(unknown), "roles": ", ".join(Role.values)}
        )
    roles = set(names)
    # Accountant and cashier must be different people (DOMAIN §8.2, 会计与出纳分离).
    if roles.issuperset(FINANCE_POSTS):
        raise CommandError(_("A user cannot be both accountant and cashier: they must be different people."))
    if roles.intersection(FINANCE_POSTS):
        roles.add(Role.FINANCE)  # a finance post is a kind of finance user (roles.py)
    return frozenset(roles)


def _townships(codes: list[str], *, county: bool) -> tuple[AdministrativeDivision, ...]:
    if county and codes:
        raise CommandError(
            _("Give either --township or --county, not both: a county-wide user sees every township.")
        )
    if not county and not codes:
        # A user with no township sees nothing (scoping fails closed); say so now, not at first login.
        raise CommandError(
            _("Give the user's township with --township CODE, or --county for the whole county.")
        )
    townships = []
    for code in dict.fromkeys(code.strip() for code in codes):  # keeps order, drops repeats
        if not is_valid_division_code(code):
            raise CommandError(_('"%(code)s" is not a 12-digit division code.') % {"code": code})
        township = AdministrativeDivision.objects.filter(code=code, level=DivisionLevel.TOWNSHIP).first()
        if township is None:
            raise CommandError(
                _("There is no township with code %(code)s (a county or village code is not enough).")
                % {"code": code}
            )
        if township.valid_to is not None and township.valid_to < timezone.localdate():
            raise CommandError(
                _("Township %(code)s (%(name)s) was withdrawn on %(date)s.")
                % {"code": code, "name": township.name, "date": township.valid_to.isoformat()}
            )
        townships.append(township)
    return tuple(townships)


def _password(options: dict[str, Any], stdin: TextIO) -> str | None:
    if options["password_stdin"] and options["password"] is not None:
        raise CommandError(_("Give either --password or --password-stdin, not both."))
    if options["password_stdin"]:
        password = stdin.readline().rstrip("\r\n")
        if not password:
            raise CommandError(_("No password on standard input."))
        return password
    return options["password"]


def _email(email: str | None) -> str | None:
    if email is None:
        return None
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError as error:
        raise CommandError(_('Invalid email address "%(email)s".') % {"email": email}) from error
    return email


def _apply(wanted: _Wanted) -> str:
    """Make the user match `wanted`; return one line saying what happened."""
    # Lock an existing row, so two runs for the same user apply one after the other.
    user = User.objects.select_for_update().filter(username=wanted.username).first()
    created = user is None
    if user is None:
        user = User(username=wanted.username)
    changes: list[str] = []

    if wanted.email is not None and user.email != wanted.email:
        user.email = wanted.email
        changes.append(_("email"))
    if user.county_wide != wanted.county_wide:
        user.county_wide = wanted.county_wide
        changes.append(_("county-wide"))
    is_staff = Role.ADMIN in wanted.roles  # administrators use the Django admin
    if user.is_staff != is_staff or user.is_superuser:
        user.is_staff = is_staff
        # Never a superuser: one passes every permission check, segregation of duties included.
        user.is_superuser = False
        changes.append(_("admin access"))

    if wanted.password is not None and (created or not user.check_password(wanted.password)):
        try:
            # Validated against this user, so a password like the username is refused.
            password_validation.validate_password(wanted.password, user)
        except ValidationError as error:
            reasons = " ".join(error.messages)
            raise CommandError(_("Password refused: %(reasons)s") % {"reasons": reasons}) from error
        user.set_password(wanted.password)
        if not created:
            changes.append(_("password"))
    elif created:
        # No password given: nobody can log in as this user until one is set (manage.py changepassword).
        user.set_unusable_password()

    if created or changes:
        user.save()

    groups = list(Group.objects.filter(name__in=wanted.roles))
    if len(groups) != len(wanted.roles):
        raise CommandError(_("The role groups are missing; run manage.py migrate first."))
    held = set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
    if held != set(wanted.roles):
        # Groups that are not roles (if any) are left alone.
        user.groups.remove(*user.groups.filter(name__in=Role.values).exclude(name__in=wanted.roles))
        user.groups.add(*groups)
        if not created:
            changes.append(_("roles"))

    assigned = set(user.township_assignments.values_list("township_id", flat=True))
    wanted_ids = {township.pk for township in wanted.townships}
    if assigned != wanted_ids:
        user.township_assignments.exclude(township_id__in=wanted_ids).delete()
        TownshipAssignment.objects.bulk_create(
            [TownshipAssignment(user=user, township_id=pk) for pk in wanted_ids - assigned]
        )
        if not created:
            changes.append(_("townships"))

    roles = ", ".join(role for role in Role.values if role in wanted.roles)
    where = (
        _("whole county")
        if wanted.county_wide
        else ", ".join(f"{township.code} {township.name}" for township in wanted.townships)
    )
    values = {"username": user.username, "roles": roles, "where": where, "changes": ", ".join(changes)}
    if created:
        if user.has_usable_password():
            return _("Created user %(username)s: %(roles)s; %(where)s.") % values
        no_password = _("Created user %(username)s: %(roles)s; %(where)s; no password (run changepassword).")
        return no_password % values
    if changes:
        return _("Updated user %(username)s (%(changes)s): %(roles)s; %(where)s.") % values
    return _("User %(username)s is already up to date: %(roles)s; %(where)s.") % values
