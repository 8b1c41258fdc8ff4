"""Reads about staff users shared by the pages and the API."""

from __future__ import annotations

from typing import Any

from socialsec.core.choices import Role
from socialsec.core.models import User


def user_profile(user: User) -> dict[str, Any]:
    """Roles (in glossary order), townships or county-wide, and the unmask permission."""
    roles = [role for role in Role.values if role in user.role_names]
    townships = [
        {"id": a.township_id, "code": a.township.code, "name": a.township.name}
        for a in user.township_assignments.select_related("township").order_by("township__code")
    ]
    return {
        "username": user.get_username(),
        "name": user.get_full_name() or user.get_username(),
        "roles": roles,
        "county_wide": user.county_wide,
        "townships": townships,
        "may_unmask": user.has_perm("core.unmask_personal_data"),
    }
