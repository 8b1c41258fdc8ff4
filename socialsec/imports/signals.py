"""Signals of the import pipeline, so apps react to imports without the pipeline knowing them.

import_committed is sent once a batch's transaction has committed (never for a rollback),
with kind (the kind's name), batch_id, township_id (None: the whole county) and touches
(the kind's model labels). Receivers schedule their own follow-up work, e.g. the registry
refreshes its coverage rollup after a list that changed persons or enrollments.
"""

from __future__ import annotations

from django.dispatch import Signal

import_committed = Signal()
