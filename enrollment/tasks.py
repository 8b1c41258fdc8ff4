"""Background jobs of the registry: adapters that call one service each."""

from __future__ import annotations

import datetime as dt

from celery import shared_task


@shared_task
def coverage_refresh(as_of: str | None = None) -> int:
    """Rebuild the coverage figures as of a day (ISO date; default today). Safe to run twice."""
    from django.utils import timezone

    from enrollment.coverage import coverage_refresh as refresh

    day = dt.date.fromisoformat(as_of) if as_of else timezone.localdate()
    return refresh(as_of=day)
