"""Reads about staff users shared by the pages and the API."""

from __future__ import annotations

from typing import Any

from socialsec.core.choices import Role
from socialsec.core.models import AdministrativeDivision, User


def user_roles(user: User) -> list[Role]:
    """The glossary roles the user holds, in glossary order."""
    return [role for role in Role if role in user.role_names]


def user_townships(user: User) -> list[AdministrativeDivision]:
    """The townships the user is assigned to, by code (none for a county-wide user)."""
    return list(AdministrativeDivision.objects.filter(assignments__user_id=user.pk).order_by("code"))


def user_profile(user: User) -> dict[str, Any]:
    """Roles (in glossary order), townships or county-wide, and the unmask permission."""
    return {
        "username": user.get_username(),
        "name": user.get_full_name() or user.get_username(),
        "roles": [role.value for role in user_roles(user)],
        "county_wide": user.county_wide,
        "townships": [{"id": t.id, "code": t.code, "name": t.name} for t in user_townships(user)],
        "may_unmask": user.has_perm("core.unmask_personal_data"),
    }
