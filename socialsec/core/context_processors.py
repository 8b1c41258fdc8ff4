"""Template context for every page: the navigation and who the user is working as."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from socialsec.core.navigation import navigation_for
from socialsec.core.selectors import user_roles, user_townships


def _township_names(user: Any) -> list[str]:
    return [township.name for township in user_townships(user)] if user.is_authenticated else []


def _role_labels(user: Any) -> list[str]:
    return [role.label for role in user_roles(user)] if user.is_authenticated else []


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
