"""Pages every user shares: the health check and the home page with each role's work queue."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from socialsec.core.choices import Role
from socialsec.core.navigation import work_queue_items
from socialsec.core.roles import FINANCE_POSTS

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponse])


def township_scoped(view: ViewFunc) -> ViewFunc:
    """Mark an HTML view as reading township data only through the scoping door.

    The contract the mark stands for: every row the view shows or changes comes from
    `Model.objects.visible_to(request.user)`, `get_visible_or_404`, or a selector or
    service that starts from one of them, so another township's record is a 404.
    The decorator only sets `view.township_scoped = True`; tests/core/test_scoping.py
    walks the URLconf and fails for a view that is neither marked nor allow-listed.
    Put it outermost, so the mark sits on the callable the URLconf holds.
    """
    view.township_scoped = True  # type: ignore[attr-defined]
    return view


def wants_partial(request: HttpRequest) -> bool:
    """An htmx request for a fragment; a history restore (back button after a cache miss) needs
    the whole page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def positive_int(raw: str | None) -> int | None:
    """A query parameter as a positive whole number (a keyset cursor, a page size), else None."""
    try:
        value = int(raw) if raw else None
    except ValueError:
        return None
    return value if value and value > 0 else None


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness without the database: for load balancers, docker healthchecks and the benchmark's baseline."""
    return HttpResponse("ok", content_type="text/plain")


def work_queue_roles(user: object) -> list[Role]:
    """The roles whose queue the home page shows, in the order a roster moves through them."""
    roles = [role for role in Role if role in user.role_names]  # type: ignore[attr-defined]
    # A finance user holds `finance` plus one post; the post's queue is the specific one.
    if any(post in roles for post in FINANCE_POSTS):
        roles.remove(Role.FINANCE)
    return roles


@township_scoped  # the queues list the user's townships' rosters, through visible_to
@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    queues = [
        {
            "role": role,
            "label": role.label,
            "template": f"core/_queue_{role.value}.html",
            "items": work_queue_items(request.user, role),
        }
        for role in work_queue_roles(request.user)
    ]
    return render(request, "core/home.html", {"queues": queues})
