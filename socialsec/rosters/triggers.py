"""The database guards of every roster kind (django-pgtrigger), generated from the models.

Each trigger renders its SQL from the concrete model it is attached to (table and column names,
the roster ↔ line relation and, for the status edges, the django-fsm transitions), so a new
roster kind gets the same guards and a changed lifecycle changes the trigger (and makemigrations
notices). Every refusal is SQLSTATE 23514 (check_violation), an IntegrityError in Django.

Roster table:
- `roster_status_edges`: rows start as DRAFT; the status moves only along the FSM's edges.
- `roster_record_frozen`: number, programme, period and township never change; who took a step
  and when, the totals and the digest change only in the update that takes that step.
- `roster_cancel_lines`: cancelling a roster flags its lines, which frees them for another roster.
- `roster_never_deleted`: a roster is cancelled, never deleted.
Line table (statement-level, over the transition tables, so a 200,000-line INSERT is one check):
- `lines_insert_guard`: only into a DRAFT roster, consistent with it (programme, period, or the
  failed line it re-issues once on a later roster).
- `lines_update_guard`: lines change only while the roster is DRAFT; while PAYING only the bank
  result columns; on cancellation only the cancelled flag.
- `lines_delete_guard`: only from a DRAFT roster.
The line guards first take FOR SHARE on the rosters concerned, so a line written while the roster
is being submitted waits for the submit and then sees SUBMITTED (the digest cannot go stale).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pgtrigger
from django.apps import apps
from pgtrigger.utils import quote

from socialsec.rosters.choices import SETTLED_STATUSES, BankResult, RosterStatus

if TYPE_CHECKING:
    from django.db import models

_REFUSE = "USING ERRCODE = 'check_violation'"

# Who took a step and when, and what that step records, by group: a group changes only in the
# update that moves the status to `set_on` (or, for `cleared_on`, back to that status).
STEP_GROUPS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("made_by", "made_at"), (RosterStatus.SUBMITTED, RosterStatus.DRAFT)),
    (("checked_by", "checked_at"), (RosterStatus.CHECKED, RosterStatus.DRAFT)),
    (("approved_by", "approved_at"), (RosterStatus.APPROVED,)),
    (("released_by", "released_at"), (RosterStatus.PAYING,)),
    (
        ("settled_by", "settled_at", "paid_persons", "paid_amount", "failed_persons", "failed_amount"),
        SETTLED_STATUSES,
    ),
    (("returned_by", "returned_at", "return_reason"), (RosterStatus.DRAFT,)),
    (("cancelled_by", "cancelled_at", "cancel_reason"), (RosterStatus.CANCELLED,)),
)
# The accountant prepares the payment instruction inside APPROVED (no status change), once.
PREPARE_GROUP = ("prepared_by", "prepared_at", "bank_batch")
IDENTITY = ("number", "programme", "period", "township", "created_by", "created_at")
CONTENT = ("digest", "total_persons", "total_amount")
# The line columns the bank's receipt writes while the roster is PAYING.
BANK_COLUMNS = ("bank_status", "bank_message", "bank_recorded_at")


def _column(model: type[models.Model], name: str) -> str:
    return quote(model._meta.get_field(name).column)


def _row(model: type[models.Model], alias: str, names: tuple[str, ...] | list[str]) -> str:
    return "ROW(" + ", ".join(f"{alias}.{_column(model, name)}" for name in names) + ")"


def _current(model: type[models.Model]) -> type[models.Model]:
    """The model class in the app registry (migrations hand triggers a historical copy)."""
    return apps.get_model(model._meta.label)


def _line_model(roster_model: type[models.Model]) -> type[models.Model]:
    return _current(roster_model)._meta.get_field("lines").related_model


def _roster_model(line_model: type[models.Model]) -> type[models.Model]:
    return _current(line_model)._meta.get_field("roster").related_model


def _table(model: type[models.Model]) -> str:
    return quote(model._meta.db_table)


class StatusEdges(pgtrigger.Trigger):
    """Rows start in the field's default state and move only along the FSM's transitions."""

    when = pgtrigger.Before
    operation = pgtrigger.Insert | pgtrigger.Update
    field = "status"

    def edges(self, model: type[models.Model]) -> list[tuple[str, str]]:
        """(source, target) of every transition that changes the state, read from django-fsm.

        makemigrations compiles triggers against historical models, which have no methods: the
        transitions are read from the real model of the same name.
        """
        model = _current(model)
        found: set[tuple[str, str]] = set()
        for transition in model._meta.get_field(self.field).get_all_transitions(model):
            if transition.source in ("*", "+"):
                raise ValueError("roster transitions name their sources; wildcards would hide edges")
            targets = getattr(transition.target, "allowed_states", None) or [transition.target]
            found.update((transition.source, target) for target in targets if target != transition.source)
        return sorted(found)

    def get_func(self, model: type[models.Model]) -> str:
        field = model._meta.get_field(self.field)
        column = quote(field.column)
        allowed = ", ".join(f"'{source}>{target}'" for source, target in self.edges(model))
        return f"""
            IF TG_OP = 'INSERT' THEN
                IF NEW.{column} IS DISTINCT FROM '{field.default}' THEN
                    RAISE EXCEPTION 'socialsec: a new row of % starts as {field.default}, not %',
                        TG_TABLE_NAME, NEW.{column} {_REFUSE};
                END IF;
            ELSIF NEW.{column} IS DISTINCT FROM OLD.{column}
                  AND NOT (OLD.{column} || '>' || NEW.{column} = ANY (ARRAY[{allowed}])) THEN
                RAISE EXCEPTION 'socialsec: % row % may not move from % to %',
                    TG_TABLE_NAME, OLD.id, OLD.{column}, NEW.{column} {_REFUSE};
            END IF;
            RETURN NEW;
        """


class RecordFrozen(pgtrigger.Trigger):
    """What a roster is never changes; who took a step changes only with that step."""

    when = pgtrigger.Before
    operation = pgtrigger.Update

    def get_func(self, model: type[models.Model]) -> str:
        status = _column(model, "status")
        moved = f"NEW.{status} IS DISTINCT FROM OLD.{status}"
        checks = [
            f"""
            IF {_row(model, "NEW", IDENTITY)} IS DISTINCT FROM {_row(model, "OLD", IDENTITY)} THEN
                RAISE EXCEPTION 'socialsec: number, programme, period and township of roster % never change',
                    OLD.number {_REFUSE};
            END IF;"""
        ]
        for names, statuses in STEP_GROUPS:
            targets = ", ".join(f"'{value}'" for value in statuses)
            checks.append(
                f"""
            IF {_row(model, "NEW", names)} IS DISTINCT FROM {_row(model, "OLD", names)}
               AND NOT ({moved} AND NEW.{status} IN ({targets})) THEN
                RAISE EXCEPTION 'socialsec: roster %: {", ".join(names)} change only with their step',
                    OLD.number {_REFUSE};
            END IF;"""
            )
        checks.append(
            f"""
            IF {_row(model, "NEW", PREPARE_GROUP)} IS DISTINCT FROM {_row(model, "OLD", PREPARE_GROUP)}
               AND NOT (OLD.{status} = '{RosterStatus.APPROVED}' AND NEW.{status} = '{RosterStatus.APPROVED}'
                        AND OLD.{_column(model, "prepared_by")} IS NULL) THEN
                RAISE EXCEPTION
                    'socialsec: roster %: the payment instruction is prepared once, when approved',
                    OLD.number {_REFUSE};
            END IF;"""
        )
        # Totals and digest: free in DRAFT, fixed at submit, cleared on the way back to DRAFT.
        checks.append(
            f"""
            IF {_row(model, "NEW", CONTENT)} IS DISTINCT FROM {_row(model, "OLD", CONTENT)}
               AND NOT (OLD.{status} = '{RosterStatus.DRAFT}'
                        AND NEW.{status} IN ('{RosterStatus.DRAFT}', '{RosterStatus.SUBMITTED}'))
               AND NOT ({moved} AND NEW.{status} = '{RosterStatus.DRAFT}') THEN
                RAISE EXCEPTION 'socialsec: roster % is %: its totals and digest are fixed', OLD.number,
                    OLD.{status} {_REFUSE};
            END IF;"""
        )
        return "\n".join(checks) + "\nRETURN NEW;"


class CancelLines(pgtrigger.Trigger):
    """A cancelled roster's lines are flagged, which takes them out of the double-payment index."""

    when = pgtrigger.After
    operation = pgtrigger.Update
    condition = pgtrigger.Condition(
        f"OLD.status IS DISTINCT FROM NEW.status AND NEW.status = '{RosterStatus.CANCELLED}'"
    )

    def get_func(self, model: type[models.Model]) -> str:
        lines = _line_model(model)
        return f"""
            UPDATE {_table(lines)} SET {_column(lines, "roster_cancelled")} = true
            WHERE {_column(lines, "roster")} = NEW.id;
            RETURN NULL;
        """


def _lock_rosters(line_model: type[models.Model], rows: str) -> str:
    roster = _roster_model(line_model)
    return f"""
        PERFORM 1 FROM {_table(roster)} r
        WHERE r.id IN (SELECT DISTINCT {_column(line_model, "roster")} FROM {rows})
        ORDER BY r.id FOR SHARE;
    """


def _new_line_problem(line_model: type[models.Model], new: str, roster: str) -> str:
    """SQL: why the line `new` cannot stand on the DRAFT roster `roster` (NULL when it can).

    The re-issue rule reads the original line `orig` and its roster `orig_roster` (see _reissue_joins).
    """
    col = lambda name: _column(line_model, name)  # noqa: E731
    return f"""CASE
        WHEN {new}.{col("programme")} IS DISTINCT FROM {roster}.programme
            THEN 'its programme is not the roster''s'
        WHEN {new}.{col("roster_cancelled")} THEN 'it is flagged cancelled on a roster that is not'
        WHEN {new}.{col("bank_status")} <> '{BankResult.PENDING}' THEN 'it has a bank result before payment'
        WHEN {new}.{col("reissue_of")} IS NULL AND {new}.{col("period")} <> {roster}.period
            THEN 'its month is not the roster''s'
        WHEN {new}.{col("reissue_of")} IS NOT NULL AND NOT (
                orig.{col("bank_status")} = '{BankResult.FAILED}'
                AND orig_roster.status = '{RosterStatus.PARTIALLY_PAID}'
                AND orig.{col("person")} = {new}.{col("person")}
                AND orig.{col("programme")} = {new}.{col("programme")}
                AND orig.{col("period")} = {new}.{col("period")}
                AND orig_roster.period < {roster}.period)
            THEN 'it re-issues something other than a failed line of an earlier roster, same person and month'
    END"""


def _reissue_joins(line_model: type[models.Model], new: str) -> str:
    roster_id = _column(line_model, "roster")
    return f"""
        LEFT JOIN {_table(line_model)} orig ON orig.id = {new}.{_column(line_model, "reissue_of")}
        LEFT JOIN {_table(_roster_model(line_model))} orig_roster ON orig_roster.id = orig.{roster_id}
    """


def _raise_first(select: str) -> str:
    # MATERIALIZED: planned without the LIMIT, the joins over the transition tables are hash joins.
    # Under "LIMIT 1" the planner chose nested loops, quadratic when no line is refused.
    return f"""
        WITH problem AS MATERIALIZED (SELECT * FROM ({select}) checked WHERE checked.reason IS NOT NULL)
        SELECT problem.number, problem.status, problem.seq, problem.reason INTO refused FROM problem LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'socialsec: line % of roster % (%) refused: %',
                refused.seq, refused.number, refused.status, refused.reason {_REFUSE};
        END IF;
        RETURN NULL;
    """


class _LineGuard(pgtrigger.Trigger):
    level = pgtrigger.Statement
    when = pgtrigger.After
    declare = [("refused", "RECORD")]


class LinesInsertGuard(_LineGuard):
    operation = pgtrigger.Insert
    referencing = pgtrigger.Referencing(new="new_rows")

    def get_func(self, model: type[models.Model]) -> str:
        roster = _roster_model(model)
        seq, roster_id = _column(model, "seq"), _column(model, "roster")
        select = f"""
            SELECT r.number, r.status, n.{seq} AS seq, CASE
                WHEN r.status <> '{RosterStatus.DRAFT}' THEN 'lines are added only to a draft roster'
                ELSE {_new_line_problem(model, "n", "r")}
            END AS reason
            FROM new_rows n JOIN {_table(roster)} r ON r.id = n.{roster_id}
            {_reissue_joins(model, "n")}
        """
        return _lock_rosters(model, "new_rows") + _raise_first(select)


class LinesUpdateGuard(_LineGuard):
    operation = pgtrigger.Update
    referencing = pgtrigger.Referencing(old="old_rows", new="new_rows")

    def get_func(self, model: type[models.Model]) -> str:
        roster = _roster_model(model)
        seq, roster_id = _column(model, "seq"), _column(model, "roster")
        names = [field.name for field in model._meta.concrete_fields]
        not_bank = [name for name in names if name not in BANK_COLUMNS]
        not_flag = [name for name in names if name != "roster_cancelled"]
        select = f"""
            SELECT r.number, r.status, o.{seq} AS seq, CASE
                WHEN n.{roster_id} <> o.{roster_id} OR n.{_column(model, "programme")}
                     <> o.{_column(model, "programme")} OR n.id <> o.id
                    THEN 'a line never moves to another roster or programme'
                WHEN n IS NOT DISTINCT FROM o THEN NULL
                WHEN r.status = '{RosterStatus.DRAFT}' THEN {_new_line_problem(model, "n", "r")}
                WHEN r.status = '{RosterStatus.PAYING}'
                     AND {_row(model, "n", not_bank)} IS NOT DISTINCT FROM {_row(model, "o", not_bank)}
                    THEN NULL
                WHEN r.status = '{RosterStatus.CANCELLED}' AND n.{_column(model, "roster_cancelled")}
                     AND {_row(model, "n", not_flag)} IS NOT DISTINCT FROM {_row(model, "o", not_flag)}
                    THEN NULL
                WHEN r.status = '{RosterStatus.PAYING}' THEN 'only the bank result changes while paying'
                ELSE 'the roster has left draft: its lines are frozen'
            END AS reason
            FROM old_rows o JOIN new_rows n ON n.id = o.id
            JOIN {_table(roster)} r ON r.id = o.{roster_id}
            {_reissue_joins(model, "n")}
        """
        return _lock_rosters(model, "old_rows") + _raise_first(select)


class LinesDeleteGuard(_LineGuard):
    operation = pgtrigger.Delete
    referencing = pgtrigger.Referencing(old="old_rows")

    def get_func(self, model: type[models.Model]) -> str:
        roster = _roster_model(model)
        select = f"""
            SELECT r.number, r.status, o.{_column(model, "seq")} AS seq, CASE
                WHEN r.status <> '{RosterStatus.DRAFT}' THEN 'the roster has left draft: its lines are frozen'
            END AS reason
            FROM old_rows o JOIN {_table(roster)} r ON r.id = o.{_column(model, "roster")}
        """
        return _lock_rosters(model, "old_rows") + _raise_first(select)


def roster_triggers() -> list[pgtrigger.Trigger]:
    return [
        StatusEdges(name="roster_status_edges"),
        RecordFrozen(name="roster_record_frozen"),
        CancelLines(name="roster_cancel_lines"),
        pgtrigger.Protect(name="roster_never_deleted", operation=pgtrigger.Delete),
    ]


def line_triggers() -> list[pgtrigger.Trigger]:
    return [
        LinesInsertGuard(name="lines_insert_guard"),
        LinesUpdateGuard(name="lines_update_guard"),
        LinesDeleteGuard(name="lines_delete_guard"),
    ]
