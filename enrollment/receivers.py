"""The registry's reactions to other parts of the project (connected in EnrollmentConfig.ready)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

logger = logging.getLogger(__name__)

# An import of these changes who counts as a resident aged 16+ or as enrolled (enrollment.coverage).
COVERAGE_MODELS = frozenset({"enrollment.Person", "enrollment.Enrollment"})


def refresh_coverage_after_import(sender: Any, *, touches: Iterable[str] = (), **kwargs: Any) -> None:
    """After an import that changed persons or enrollments commits, rebuild the coverage rollup.

    import_committed is sent after the commit, so the worker reads the new rows. The refresh
    rebuilds the whole rollup and is safe to run twice, so back-to-back imports may each queue one.
    """
    if not COVERAGE_MODELS.intersection(touches):
        return
    from enrollment.tasks import coverage_refresh

    try:
        coverage_refresh.delay()
    except Exception:
        # The broker being down must not fail an import already committed: the nightly refresh
        # (the beat entry of migration 0010) rebuilds the figures anyway.
        logger.exception("coverage refresh not queued after import batch %s", kwargs.get("batch_id"))
