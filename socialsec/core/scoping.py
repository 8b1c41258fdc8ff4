"""Township scoping, written once.

Every scoped model declares TOWNSHIP_PATH (the lookup from the row to its township)
and uses TownshipScopedQuerySet. Pages, API views, services and tasks read
through `visible_to(user)`; single objects come from `get_visible_or_404`, which
answers the same for "missing" and "another township's", so ids reveal nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from django.db import models

from socialsec.core.exceptions import NotVisible

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from socialsec.core.models import User


def can_see_whole_county(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and user.is_active and getattr(user, "county_wide", False))


def assigned_township_ids(user: User) -> tuple[int, ...]:
    """The user's township ids, read once per user object (that is, once per request or task)."""
    cached = getattr(user, "_assigned_township_ids", None)
    if cached is None:
        from socialsec.core.models import TownshipAssignment

        cached = tuple(
            TownshipAssignment.objects.filter(user_id=user.pk)
            .order_by("township_id")
            .values_list("township_id", flat=True)
        )
        user._assigned_township_ids = cached
    return cached


class TownshipScopedQuerySet(models.QuerySet):
    def visible_to(self, user: User | AnonymousUser) -> Self:
        """Rows in the user's townships; everything for county-wide staff; nothing otherwise."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if can_see_whole_county(user):
            return self.all()
        path = getattr(self.model, "TOWNSHIP_PATH", None)
        if not path:  # a scoped model that forgot its path shows nothing rather than everything
            return self.none()
        townships = assigned_township_ids(user)
        if not townships:
            return self.none()
        # Literal ids, not a subquery: with "township_id IN (5)" the planner walks the
        # (township, id) index of a list page; behind a subquery it cannot know which
        # township and scans the whole table in id order instead.
        return self.filter(**{f"{path}__in": townships})


def get_visible_or_404(queryset: models.QuerySet, user: User | AnonymousUser, **where: Any) -> Any:
    """The one way to load a single scoped object; raises NotVisible (404) otherwise."""
    try:
        return queryset.visible_to(user).get(**where)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise NotVisible(model=queryset.model._meta.model_name) from exc
