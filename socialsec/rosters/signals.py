"""Sent after the transaction that took a roster step has committed (never before).

Receivers are the step's side effects (notifying the next post, building the bank file in a
worker, …): `sender` is the roster model; kwargs `roster_id`, `step` (RosterStep value) and
`by_id`. A receiver that enqueues a task runs after the commit, so the worker sees the new state.
"""

from django.dispatch import Signal

roster_step_committed = Signal()
