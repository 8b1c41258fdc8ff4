"""`manage.py create_user`: staff with roles and townships, created or updated idempotently."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation
from pghistory.models import Context

from socialsec.core.choices import Role
from socialsec.core.models import User
from tests.conftest import Cast
from tests.factories import TownshipFactory, UserFactory

PASSWORD = "lotus-pond-harvest-17"


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    # Messages are translated; these tests read the English ones.
    with translation.override("en"):
        yield


def create_user(*args: str, stdin: str | None = None, **options: object) -> str:
    out = io.StringIO()
    if stdin is not None:
        options["stdin"] = io.StringIO(stdin)
    call_command("create_user", *args, stdout=out, **options)
    return out.getvalue()


def role_names(user: User) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def township_codes(user: User) -> set[str]:
    return set(user.township_assignments.values_list("township__code", flat=True))


def test_creates_a_clerk_in_township_a_with_a_password(cast: Cast) -> None:
    output = create_user(
        "li_ming",
        "--role",
        "clerk",
        "--township",
        "360121100000",
        "--password",
        PASSWORD,
        "--email",
        "li.ming@example.org",
    )

    user = User.objects.get(username="li_ming")
    assert role_names(user) == {Role.CLERK}
    assert township_codes(user) == {cast.township_a.code}
    assert user.county_wide is False
    assert user.check_password(PASSWORD)
    assert user.email == "li.ming@example.org"
    assert output.count("\n") == 1
    assert output.startswith("Created user li_ming: clerk; 360121100000 莲塘镇.")


def test_running_the_same_command_twice_changes_nothing(cast: Cast) -> None:
    args = ("li_ming", "--role", "clerk", "--township", cast.township_a.code, "--password", PASSWORD)
    create_user(*args)
    before = User.objects.get(username="li_ming")

    output = create_user(*args)

    after = User.objects.get(username="li_ming")
    assert output.startswith("User li_ming is already up to date")
    assert after.password == before.password
    assert role_names(after) == {Role.CLERK}
    assert after.township_assignments.count() == 1


def test_a_second_run_replaces_roles_and_townships(cast: Cast) -> None:
    create_user("li_ming", "--role", "clerk", "--township", cast.township_a.code)

    output = create_user("li_ming", "--role", "section_chief", "--township", cast.township_b.code)

    user = User.objects.get(username="li_ming")
    assert role_names(user) == {Role.SECTION_CHIEF}
    assert township_codes(user) == {cast.township_b.code}
    assert output.startswith("Updated user li_ming (roles, townships)")


def test_a_user_may_work_for_several_townships(cast: Cast) -> None:
    a, b = cast.township_a.code, cast.township_b.code

    create_user("li_ming", "--role", "clerk", "--township", a, "--township", b)

    assert township_codes(User.objects.get(username="li_ming")) == {a, b}


def test_county_makes_the_user_county_wide_and_drops_township_assignments(cast: Cast) -> None:
    create_user("li_ming", "--role", "auditor", "--township", cast.township_a.code)

    output = create_user("li_ming", "--role", "auditor", "--county")

    user = User.objects.get(username="li_ming")
    assert user.county_wide is True
    assert user.township_assignments.count() == 0
    assert "whole county" in output


@pytest.mark.parametrize("post", [Role.ACCOUNTANT, Role.CASHIER])
def test_a_finance_post_implies_the_finance_role(cast: Cast, post: str) -> None:
    # DOMAIN glossary: finance has two sub-roles, accountant (会计) and cashier (出纳).
    create_user("zhao_gang", "--role", post, "--township", cast.township_a.code)

    assert role_names(User.objects.get(username="zhao_gang")) == {Role.FINANCE, post}


def test_one_person_cannot_be_both_accountant_and_cashier(cast: Cast) -> None:
    # DOMAIN §8.2: accountant ≠ cashier (会计与出纳分离), E22 step 4.
    with pytest.raises(CommandError, match="both accountant and cashier"):
        create_user(
            "zhao_gang", "--role", "accountant", "--role", "cashier", "--township", cast.township_a.code
        )
    assert not User.objects.filter(username="zhao_gang").exists()


def test_the_existing_accountant_cannot_become_cashier_as_well(cast: Cast) -> None:
    # DOMAIN §8.2: the roles given replace the old ones, so a combined post never arises by update.
    with pytest.raises(CommandError, match="both accountant and cashier"):
        create_user(
            cast.accountant_dan.username,
            "--role",
            "accountant",
            "--role",
            "cashier",
            "--township",
            cast.township_a.code,
        )
    assert role_names(cast.accountant_dan) == {Role.FINANCE, Role.ACCOUNTANT}


def test_an_unknown_role_is_refused_with_the_list_of_roles(cast: Cast) -> None:
    with pytest.raises(CommandError, match=r"Unknown role boss\. Roles are: clerk, section_chief"):
        create_user("li_ming", "--role", "boss", "--township", cast.township_a.code)


def test_a_user_needs_at_least_one_role(cast: Cast) -> None:
    with pytest.raises(CommandError, match="at least one --role"):
        create_user("li_ming", "--township", cast.township_a.code)


def test_a_user_with_neither_township_nor_county_is_refused(cast: Cast) -> None:
    # STYLE §8: scoping fails closed, so such a user would see nothing.
    with pytest.raises(CommandError, match="--township CODE, or --county"):
        create_user("li_ming", "--role", "clerk")
    assert not User.objects.filter(username="li_ming").exists()


def test_township_and_county_together_are_refused(cast: Cast) -> None:
    with pytest.raises(CommandError, match="not both"):
        create_user("li_ming", "--role", "clerk", "--township", cast.township_a.code, "--county")


@pytest.mark.parametrize("code", ["36012110000", "36012110000X", "360121-100000"])
def test_a_township_code_must_be_12_digits(cast: Cast, code: str) -> None:
    # DOMAIN §6.3
    with pytest.raises(CommandError, match="not a 12-digit division code"):
        create_user("li_ming", "--role", "clerk", "--township", code)


def test_a_village_county_or_unknown_code_is_not_a_township(cast: Cast) -> None:
    for code in (cast.village_a.code, cast.county.code, "360121300000"):
        with pytest.raises(CommandError, match=f"no township with code {code}"):
            create_user("li_ming", "--role", "clerk", "--township", code)


def test_a_withdrawn_township_is_refused(cast: Cast) -> None:
    # DOMAIN §6.3: codes are revised every year and withdrawn units keep their rows.
    TownshipFactory(code="360121102000", name="已撤销镇", parent=cast.county, valid_to=date(2020, 12, 31))

    with pytest.raises(CommandError, match="withdrawn on 2020-12-31"):
        create_user("li_ming", "--role", "clerk", "--township", "360121102000")


@pytest.mark.parametrize(
    ("password", "reason"),
    [("short1", "too short"), ("password1234", "too common"), ("3601211000001", "entirely numeric")],
)
def test_a_weak_password_is_refused_and_nothing_is_saved(cast: Cast, password: str, reason: str) -> None:
    with pytest.raises(CommandError, match=f"Password refused: .*{reason}"):
        create_user("li_ming", "--role", "clerk", "--township", cast.township_a.code, "--password", password)
    assert not User.objects.filter(username="li_ming").exists()


def test_a_password_like_the_username_is_refused(cast: Cast) -> None:
    with pytest.raises(CommandError, match="too similar to the username"):
        create_user(
            "lianchengxu", "--role", "clerk", "--township", cast.township_a.code, "--password", "lianchengxu1"
        )


def test_the_password_can_come_from_standard_input(cast: Cast) -> None:
    create_user(
        "li_ming",
        "--role",
        "clerk",
        "--township",
        cast.township_a.code,
        "--password-stdin",
        stdin=f"{PASSWORD}\n",
    )

    assert User.objects.get(username="li_ming").check_password(PASSWORD)


def test_an_empty_standard_input_is_refused(cast: Cast) -> None:
    with pytest.raises(CommandError, match="No password on standard input"):
        create_user(
            "li_ming", "--role", "clerk", "--township", cast.township_a.code, "--password-stdin", stdin=""
        )


def test_password_and_password_stdin_together_are_refused(cast: Cast) -> None:
    with pytest.raises(CommandError, match="not both"):
        create_user(
            "li_ming",
            "--role",
            "clerk",
            "--township",
            cast.township_a.code,
            "--password",
            PASSWORD,
            "--password-stdin",
            stdin=f"{PASSWORD}\n",
        )


def test_without_a_password_nobody_can_log_in_yet(cast: Cast) -> None:
    output = create_user("li_ming", "--role", "clerk", "--township", cast.township_a.code)

    assert User.objects.get(username="li_ming").has_usable_password() is False
    assert "no password" in output


def test_an_update_without_a_password_keeps_the_old_one(cast: Cast) -> None:
    create_user(
        cast.maker_ann.username,
        "--role",
        "clerk",
        "--role",
        "section_chief",
        "--township",
        cast.township_a.code,
    )

    assert User.objects.get(pk=cast.maker_ann.pk).check_password("correct horse battery")


def test_a_new_password_for_an_existing_user_is_reported(cast: Cast) -> None:
    output = create_user(
        cast.maker_ann.username, "--role", "clerk", "--township", cast.township_a.code, "--password", PASSWORD
    )

    assert output.startswith("Updated user maker_ann (password)")
    assert User.objects.get(pk=cast.maker_ann.pk).check_password(PASSWORD)


def test_an_administrator_gets_the_admin_site_but_never_superuser(cast: Cast) -> None:
    # A superuser passes every permission check, segregation of duties included (DOMAIN §8.2).
    UserFactory(username="root_ops", is_superuser=True)

    create_user("root_ops", "--role", "admin", "--county")

    user = User.objects.get(username="root_ops")
    assert user.is_staff is True
    assert user.is_superuser is False


def test_non_role_groups_are_left_alone(cast: Cast) -> None:
    from django.contrib.auth.models import Group

    newsletter = Group.objects.create(name="newsletter")
    cast.maker_ann.groups.add(newsletter)

    create_user(cast.maker_ann.username, "--role", "section_chief", "--township", cast.township_a.code)

    assert role_names(User.objects.get(pk=cast.maker_ann.pk)) == {"newsletter", Role.SECTION_CHIEF}


@pytest.mark.parametrize("username", ["li ming", "li/ming", ""])
def test_an_invalid_username_is_refused(cast: Cast, username: str) -> None:
    with pytest.raises(CommandError, match="Invalid username"):
        create_user(username, "--role", "clerk", "--township", cast.township_a.code)


def test_an_invalid_email_is_refused(cast: Cast) -> None:
    with pytest.raises(CommandError, match="Invalid email address"):
        create_user("li_ming", "--role", "clerk", "--township", cast.township_a.code, "--email", "li.ming@")


def test_the_audit_trail_records_that_the_command_made_the_user(cast: Cast) -> None:
    create_user("li_ming", "--role", "clerk", "--township", cast.township_a.code)

    event = User.objects.get(username="li_ming").events.get()
    assert Context.objects.get(pk=event.pgh_context_id).metadata["command"] == "create_user"
