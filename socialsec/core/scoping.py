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


class TownshipScopedQuerySet(models.QuerySet):
    def visible_to(self, user: User | AnonymousUser) -> Self:
        """Rows in the user's townships; everything for county-wide staff; nothing otherwise."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if can_see_whole_county(user):
            return self.all()
        from socialsec.core.models import TownshipAssignment

        path = getattr(self.model, "TOWNSHIP_PATH", None)
        if not path:  # a scoped model that forgot its path shows nothing rather than everything
            return self.none()
        # A subquery, not a list: no extra round trip, and the planner semi-joins on the index.
        assigned = TownshipAssignment.objects.filter(user_id=user.pk).values("township_id")
        return self.filter(**{f"{path}__in": assigned})


def get_visible_or_404(queryset: models.QuerySet, user: User | AnonymousUser, **where: Any) -> Any:
    """The one way to load a single scoped object; raises NotVisible (404) otherwise."""
    try:
        return queryset.visible_to(user).get(**where)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise NotVisible(model=queryset.model._meta.model_name) from exc
