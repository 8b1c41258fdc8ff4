"""Template context for every page: the navigation and who the user is working as."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from socialsec.core.choices import Role
from socialsec.core.navigation import navigation_for


def _township_names(user: Any) -> list[str]:
    from socialsec.core.models import AdministrativeDivision

    if not user.is_authenticated:
        return []
    return list(
        AdministrativeDivision.objects.filter(assignments__user_id=user.pk).order_by("code").values_list(
            "name", flat=True
        )
    )


def _role_labels(user: Any) -> list[str]:
    if not user.is_authenticated:
        return []
    return [role.label for role in Role if role in user.role_names]


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Lazy values: an htmx partial that never draws the menu costs no query."""
    user = getattr(request, "user", None)
    if user is None:  # e.g. a page rendered before AuthenticationMiddleware ran
        return {}
    return {
        "navigation": SimpleLazyObject(lambda: navigation_for(user, request.path)),
        "user_townships": SimpleLazyObject(lambda: _township_names(user)),
        "user_roles": SimpleLazyObject(lambda: _role_labels(user)),
    }
