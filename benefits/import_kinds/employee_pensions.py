"""Employee-pension lists (职工养老金领取人员名单) from the province: one row per person drawing the
employee pension or the government and institution pension, as the province computed it.

The county does not compute these pensions (DOMAIN §2: "facts a county office needs"); it needs
them for the dual-receipt rule (§1.6 Art 8, E7), which benefits.services.other_basic_pensions reads
from the PAYING entitlements of the programme employee_pension. Each row becomes such a
BenefitEntitlement (§8.1: person, benefit type, snapshot, monthly amount, start and end month,
status), written PAYING (the trigger EntitlementStatusEdges lets a new row start there for this
import) with a snapshot naming the province's list, the batch, the file and the row. Both schemes
are recorded under the one benefit type DOMAIN §8.1 lists, `employee_pension`; the scheme the list
names is kept in snapshot["scheme"].

The rules, for the whole file at once:
- The person is registered (in the batch's township, when it has one) under the list's name.
- The scheme is the employee pension or the government and institution pension (their labels,
  code identifiers and the usual short forms such as 企保 or 机关事业单位养老保险).
- The start month is a month (2024-03, 202403, 2024年3月, or any date in it), not after the current
  month, not after the month of death, and not before the month the person reaches the original
  retirement age of §2.3 (early retirement never goes below it): 60 for a man, the lower of the
  two original ages for a woman (50), read from the policy parameters
  employee_pension.retirement.<category>.original_age in force today for the row's pooling area.
  The ages the reform adds (§2.3) and the early retirements DOMAIN does not cover are not checked:
  the province decided them.
- The basic pension (基础养老金, DOMAIN glossary basic_pension) and the personal-account pension are
  required; the top-up (过渡性养老金 and other additions) may be empty (0). Amounts are yuan with at
  most two decimals, never negative, and not all 0; a total column, when the file has one, equals
  their sum.
- The pooling area (统筹区) is a 6-digit division code; empty, it is the county of the person's
  township, as enrollment_enroll sets Enrollment.pooling_area.
- The stop month (终止年月) is optional: the first month the province no longer pays (§8.2
  PAYING → STOPPED, as entitlement_stop records it), not before the start month. A person recorded
  as dead needs one before anything is written for them.
- Inside the file, one row per person (one open entitlement per person and programme): an exact
  repeat is an error on the later rows, other values for the same person on every row.

Against the entitlements on record (one open entitlement per person and programme):
- none → inserted PAYING; with a stop month it then goes PAYING → STOPPED (reason "other", the
  province's list in snapshot["stop"]), the edge the status trigger allows.
- an open one with the same start month and the same scheme, amounts and pooling area and no stop
  month → unchanged: the same list sent again writes nothing.
- an open one with the same start month and scheme but other amounts or pooling area, or a stop
  month → UPDATED in place (and stopped). Decision: the province recomputes pensions every year
  (the annual adjustment), and the county must compare the current figures, not the first ones.
  The old figures stay in the audit trail (pghistory writes a row version naming the batch) and
  in snapshot["updated"]["previous"]; rosters already generated keep their own amounts.
- anything else is a row error naming the entitlement, never a change: an open one from another
  start month, of the other scheme, or not PAYING/SUSPENDED; a stopped one with the same start
  month whose figures or stop month differ (an import does not reopen or correct a stop). A
  stopped one with the same figures is unchanged, with the same stop month or with none in the
  row: the county may have stopped it (a death) before the province's list caught up.

The commit stages the rows to write and runs one INSERT … SELECT (new entitlements) and one
UPDATE … FROM (changed ones, and the stop of new ones with a stop month); no loop over rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from benefits.choices import BenefitProgramme
from benefits.entitlements import CLOSED_ENTITLEMENT_STATUSES, EntitlementStatus, StopReason
from enrollment.choices import EMPLOYMENT_PENSION_SCHEMES, Scheme

# The amount and period readers of the contribution batches: the same cells read the same way.
from enrollment.import_kinds.cells import amounts, periods, yuan, yuan_column
from enrollment.import_kinds.common import (
    ID_NUMBER_HEADERS,
    NAME_HEADERS,
    SCHEME_ALIASES,
    RowErrors,
    check_id_and_name,
    choice_codes,
    choice_lookup,
    copy_to_stage,
    drop_rows_repeated_in_file,
    fire_row_triggers_cheaply,
    int_list,
    names_differ,
    parameters_by_stretch,
    registry_message,
    registry_persons,
    unregistered,
    validate_in_two_steps,
    widen,
)
from enrollment.import_kinds.enrollments import scheme_label
from socialsec.imports.choices import ProgressStep
from socialsec.imports.kinds import ValidationContext
from socialsec.lib.resident_id import build_resident_id
from socialsec.lib.spreadsheets import Table

_STAGE = "imports_stage_employee_pensions"
_PROGRAMME = BenefitProgramme.EMPLOYEE_PENSION.value
# What an entitlement of this list keeps as its source (data, like the snapshot's other keys).
SOURCE = "province_list"
_AMOUNTS = ("basic", "account", "top_up")
# Open entitlements an import may change: the ones a roster pays or will pay again.
_CHANGEABLE = (EntitlementStatus.PAYING.value, EntitlementStatus.SUSPENDED.value)
_CLOSED_SQL = ", ".join(f"'{status}'" for status in CLOSED_ENTITLEMENT_STATUSES)

# DOMAIN §2.3: early retirement never goes below the original age (policy parameters).
_AGE_KEY = "employee_pension.retirement.{}.original_age"
MALE_AGE_KEY = _AGE_KEY.format("male")
FEMALE_AGE_KEYS = (_AGE_KEY.format("female50"), _AGE_KEY.format("female55"))

# Other names the provincial lists use for the two schemes (data, like the files' headers); the
# registry's aliases, code identifiers and labels in both languages are accepted as well.
_MORE_SCHEME_ALIASES: dict[str, tuple[str, ...]] = {
    Scheme.EMPLOYEE_PENSION: ("企业养老保险", "企业养老", "企业职工养老", "企保", "企业职工"),
    Scheme.GOV_INST_PENSION: (
        "机关事业单位养老保险",
        "机关事业单位养老",
        "机关事业单位",
        "机关事业",
        "机保",
    ),
}


@cache
def _schemes() -> dict[str, str]:
    aliases = {
        scheme: (*SCHEME_ALIASES.get(scheme, ()), *_MORE_SCHEME_ALIASES.get(scheme, ()))
        for scheme in Scheme.values
    }
    return choice_lookup(Scheme, aliases)


def _month_text(day: Any) -> str:
    return "" if pd.isna(day) else f"{pd.Timestamp(day):%Y-%m}"


def _months(values: pd.Series, numeric: pd.Series | None) -> tuple[np.ndarray, np.ndarray]:
    """(first day of each cell's month as datetime64[D], NaT where unread; error code or "").

    Codes: "required" for an empty cell, "bad_month" for anything that names no month: a year
    alone, an unreal month, or a number cell with a decimal point (2024.10 is stored as 2024.1).
    """
    year, month, code = periods(values, numeric)
    code = np.asarray(code, dtype=object).copy()
    code[code == "bad_period"] = "bad_month"
    code[(code == "") & (month == 0)] = "bad_month"
    if numeric is not None:
        dotted = numeric.to_numpy(dtype=bool) & values.str.contains(".", regex=False).to_numpy(dtype=bool)
        code[(code == "") & dotted] = "bad_month"
    read = code == ""
    first = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[D]")
    first[read] = ((year[read] - 1970) * 12 + month[read] - 1).astype("datetime64[M]").astype("datetime64[D]")
    return first, code


def _month_index(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of each day (NaT gives a meaningless number; mask it out)."""
    return days.astype("datetime64[M]").astype("int64")


class EmployeePensions:
    name = "employee_pensions"
    label = _("Employee pensions (the province's list)")
    columns = {
        "id_number": [*ID_NUMBER_HEADERS],
        "name": [*NAME_HEADERS],
        "scheme": ["险种", "参保险种", "险种名称", "险种类型", "Scheme"],
        "start_month": [
            "待遇开始年月",
            "待遇起始年月",
            "领取开始年月",
            "开始领取年月",
            "待遇享受年月",
            "Start month",
        ],
        "basic": ["基础养老金", "基本养老金", "Basic pension"],
        "account": ["个人账户养老金", "个人账户养老金额", "Personal account pension", "Account pension"],
        "top_up": [
            "过渡性养老金",
            "其他/过渡性养老金",
            "其他养老金",
            "加发",
            "Top-up",
            "Transitional pension",
        ],
        "total": ["养老金合计", "月养老金", "合计", "Monthly total", "Total"],
        "region": ["统筹区", "统筹区编码", "统筹地区", "统筹区代码", "Pooling area"],
        "stop_month": ["终止年月", "待遇终止年月", "停发年月", "Stop month"],
    }
    required = ["id_number", "name", "scheme", "start_month", "basic", "account"]
    template_rows = [
        [
            build_resident_id("360121", dt.date(1958, 6, 20), 13),
            "张三",
            "企业职工基本养老保险",
            "2018-07",
            "1850.00",
            "620.35",
            "120.00",
            "2590.35",
            "",
            "",
        ],
        [
            build_resident_id("360121", dt.date(1962, 11, 8), 35),
            "李四",
            "机关事业单位养老保险",
            "2022-12",
            "3200.00",
            "450.00",
            "",
            "3650.00",
            "360000",
            "",
        ],
    ]
    touches = ["benefits.BenefitEntitlement"]

    # --- Validation -------------------------------------------------------------------------------

    def validate(self, table: Table, ctx: ValidationContext) -> tuple[pd.DataFrame, pd.DataFrame]:
        return validate_in_two_steps(self, table, ctx)

    def check_file(self, table: Table, ctx: ValidationContext) -> tuple[pd.DataFrame, pd.DataFrame]:
        """What the file alone says: IDs, names, schemes, months, amounts, pooling areas and the
        file's own repeats. Returns the errors and the rows that passed, with the cells the
        registry's errors quote; the commit re-runs only check_registry on them."""
        frame, numeric = table.frame, table.numeric
        errors = RowErrors.of_file(self.columns, table)
        rows, cells, add = errors.rows, errors.cells, errors.add

        # The ID number (§6.1, E19) and the name, compared with the registry's in check_registry.
        numbers, names, bad = check_id_and_name(errors, numeric, ctx.today)

        # The scheme: one of the two whose pension rules out the resident pension (§1.6 Art 8).
        raw_scheme = cells["scheme"]
        scheme = choice_codes(raw_scheme, _schemes())
        bad |= add((raw_scheme == "").to_numpy(), "scheme", "required")
        bad |= add((scheme.isna() & (raw_scheme != "")).to_numpy(), "scheme", "unknown_scheme")
        other = (scheme.notna() & ~scheme.isin(list(EMPLOYMENT_PENSION_SCHEMES))).to_numpy()
        bad |= add(other, "scheme", "not_a_pension_scheme", [{"scheme": s} for s in scheme[other]])
        scheme = scheme.fillna("").astype(object)

        # The start month: a month, not after this one.
        start, start_code = _months(cells["start_month"], numeric.get("start_month"))
        for code in ("required", "bad_month"):
            bad |= add(start_code == code, "start_month", code)
        this_month = np.datetime64(ctx.today, "M").astype("datetime64[D]")
        bad |= add((start_code == "") & (start > this_month), "start_month", "future_month")

        # The stop month (optional): a month, not before the start month.
        stop, stop_code = _months(cells["stop_month"], numeric.get("stop_month"))
        bad |= add(stop_code == "bad_month", "stop_month", "bad_month")
        reversed_months = (stop_code == "") & (start_code == "") & (stop < start)
        bad |= add(
            reversed_months,
            "stop_month",
            "stop_before_start",
            [{"start": _month_text(day)} for day in start[reversed_months]],
        )

        # Amounts in yuan with at most two decimals (cents from here on), never negative.
        cents: dict[str, np.ndarray] = {}
        unread = np.zeros(len(frame), dtype=bool)  # some amount of the row is missing or unreadable
        for name in (*_AMOUNTS, "total"):
            cents[name], code = amounts(cells[name], numeric.get(name))
            if name in self.required:
                unread |= add((cells[name] == "").to_numpy(), name, "required")
            for refused in ("bad_amount", "negative_amount"):
                unread |= add(code == refused, name, refused)
        bad |= unread
        # Of the amounts that read well: a pension pays something, and the total (if any) adds up.
        monthly = cents["basic"] + cents["account"] + cents["top_up"]
        bad |= add(~unread & (monthly == 0), "basic", "zero_pension")
        given_total = (cells["total"] != "").to_numpy()
        mismatch = ~unread & given_total & (cents["total"] != monthly)
        bad |= add(mismatch, "total", "total_mismatch", [{"sum": yuan(c)} for c in monthly[mismatch]])

        # The pooling area (optional): a 6-digit division code.
        region = cells["region"].str.strip()
        bad_region = ((region != "") & ~region.str.fullmatch(r"[1-8][0-9]{5}").fillna(False)).to_numpy()
        bad |= add(bad_region, "region", "bad_region")

        # Inside the file: one row per person. Another value for the same person makes every such
        # row an error; an exact repeat, the later rows.
        ok = ~bad
        day = pd.Series(_month_index(np.where(ok, start, np.datetime64(0, "D"))), index=frame.index)
        last = pd.Series(
            np.where(stop_code == "", _month_index(np.where(ok, stop, np.datetime64(0, "D"))), -1),
            index=frame.index,
        )
        value = scheme + "|" + day.astype(str) + "|" + last.astype(str) + "|" + region
        for name in _AMOUNTS:
            value = value + "|" + pd.Series(cents[name], index=frame.index).astype(str)
        ok = drop_rows_repeated_in_file(numbers, value, rows, ok, errors)

        prepared = pd.DataFrame(
            {
                "row": rows[ok].to_numpy(dtype="int64"),
                "number": numbers[ok].to_numpy(dtype=object),
                "name": names[ok].to_numpy(dtype=object),
                "scheme": scheme[ok].to_numpy(dtype=object),
                "start_month": start[ok],
                "stop_month": stop[ok],
                "basic": cents["basic"][ok],
                "account": cents["account"][ok],
                "top_up": cents["top_up"][ok],
                "region": region[ok].to_numpy(dtype=object),
                **errors.kept_cells(ok, ["id_number", "name", "scheme", "start_month", "stop_month"]),
            }
        )
        return errors.frame(), prepared

    def check_registry(
        self, prepared: pd.DataFrame, ctx: ValidationContext
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Against the registry, the parameters in force and the entitlements on record, as they are now."""
        count = len(prepared)
        rows = prepared["row"]
        numbers = prepared["number"]
        scheme = prepared["scheme"].to_numpy(dtype=object)
        start = prepared["start_month"].to_numpy().astype("datetime64[D]")
        stop = prepared["stop_month"].to_numpy().astype("datetime64[D]")
        has_stop = ~np.isnat(stop)
        cents = {name: prepared[name].to_numpy(dtype="int64") for name in _AMOUNTS}
        errors = RowErrors.of_prepared(self.columns, prepared)
        ok = np.ones(count, dtype=bool)
        failed = np.zeros(count, dtype=bool)

        def refuse(mask: np.ndarray, column: str, code: str, params: Any = None) -> None:
            nonlocal failed
            failed |= errors.add(mask, column, code, params)

        # The person, in the batch's township (another township's person is not found, as on every
        # page), under the list's name.
        ctx.on_step(ProgressStep.REGISTRY, 50)
        registry = registry_persons(numbers.unique().tolist(), ctx.township_id)
        ok &= ~unregistered(numbers, ok, registry, ctx, errors)
        person_id = np.zeros(count, dtype="int64")
        region = prepared["region"].to_numpy(dtype=object).copy()
        births = np.full(count, np.datetime64("NaT"), dtype="datetime64[D]")
        deaths = np.full(count, np.datetime64("NaT"), dtype="datetime64[D]")
        if ok.any():
            facts = registry.loc[numbers[ok]]
            person_id[ok] = facts["id"].to_numpy(dtype="int64")
            births[ok] = facts["birth_date"].to_numpy().astype("datetime64[D]")
            deaths[ok] = facts["death_date"].to_numpy().astype("datetime64[D]")
            # No pooling area in the file: the county of the person's township (enrollment_enroll's).
            region[ok & (region == "")] = facts["pooling_area"].to_numpy(dtype=object)[(region[ok] == "")]
            wrong_name, registered = names_differ(prepared["name"].to_numpy(dtype=object)[ok], facts["name"])
            refuse(widen(wrong_name, ok), "name", "name_mismatch", registered)

        # Not after the month of death; not before the earliest retirement age (§2.3).
        dead = ok & ~np.isnat(deaths)
        after_death = dead & (_month_index(start) > _month_index(deaths))
        refuse(
            after_death,
            "start_month",
            "after_death",
            [{"date": f"{pd.Timestamp(d):%Y-%m-%d}"} for d in deaths[after_death]],
        )
        self._check_pension_age(ok, numbers, region, births, start, ctx, refuse)

        # Against the entitlements on record: unchanged, updated, inserted, or the row's error.
        ctx.on_step(ProgressStep.REGISTRY, 70)
        on_record = _entitlements_on_record(person_id[ok], start[ok])
        entitlement_id = np.zeros(count, dtype="int64")
        status = np.full(count, "", dtype=object)
        record_start = np.full(count, np.datetime64("NaT"), dtype="datetime64[D]")
        record_stop = np.full(count, np.datetime64("NaT"), dtype="datetime64[D]")
        record_scheme = np.full(count, "", dtype=object)
        record_region = np.full(count, "", dtype=object)
        record_cents = {name: np.full(count, -1, dtype="int64") for name in _AMOUNTS}
        if not on_record.empty:
            at = np.flatnonzero(ok)[on_record["position"].to_numpy(dtype="int64")]
            entitlement_id[at] = on_record["id"].to_numpy(dtype="int64")
            status[at] = on_record["status"].to_numpy(dtype=object)
            record_start[at] = on_record["start_month"].to_numpy().astype("datetime64[D]")
            record_stop[at] = on_record["stop_month"].to_numpy().astype("datetime64[D]")
            record_scheme[at] = on_record["scheme"].to_numpy(dtype=object)
            record_region[at] = on_record["region"].to_numpy(dtype=object)
            for name in _AMOUNTS:
                record_cents[name][at] = on_record[name].to_numpy(dtype="int64")
        held = ok & (entitlement_id > 0)
        is_open = held & ~np.isin(status, list(CLOSED_ENTITLEMENT_STATUSES))
        same_start = record_start == start
        same_figures = (record_region == region) & (record_scheme == scheme)
        for name in _AMOUNTS:
            same_figures &= record_cents[name] == cents[name]
        same_stop = (has_stop & (record_stop == stop)) | (~has_stop & np.isnat(record_stop))

        def named(mask: np.ndarray) -> list[dict[str, Any]]:
            return [
                {
                    "id": int(entitlement_id[i]),
                    "status": str(status[i]),
                    "scheme": str(record_scheme[i]),
                    "start": _month_text(record_start[i]),
                    "stop": _month_text(record_stop[i]),
                }
                for i in np.flatnonzero(mask)
            ]

        other_start = is_open & ~same_start
        refuse(other_start, "start_month", "other_start", named(other_start))
        not_paying = is_open & same_start & ~np.isin(status, _CHANGEABLE)
        refuse(not_paying, "id_number", "entitlement_not_paying", named(not_paying))
        other_scheme = is_open & same_start & ~not_paying & (record_scheme != scheme)
        refuse(other_scheme, "scheme", "other_scheme", named(other_scheme))
        changeable = is_open & same_start & ~not_paying & ~other_scheme
        stopped = held & ~is_open
        # A stopped one stands when the row has no stop month: the county stopped it (a death, say)
        # before the province's list caught up.
        unchanged = (changeable & same_figures & ~has_stop) | (
            stopped & same_figures & (same_stop | ~has_stop)
        )
        already_stopped = stopped & ~unchanged
        refuse(already_stopped, "stop_month", "already_stopped", named(already_stopped))
        update = changeable & ~unchanged
        insert = ok & ~held

        # A pension of a person who has died is written only with its stop month.
        deceased = (update | insert) & dead & ~has_stop
        refuse(
            deceased,
            "stop_month",
            "person_deceased",
            [{"date": f"{pd.Timestamp(d):%Y-%m-%d}"} for d in deaths[deceased]],
        )

        ok &= ~failed
        # The entitlement an update changes; none (NULL) for an insert.
        updated_ids = pd.array(entitlement_id[ok], dtype="Int64")
        updated_ids[~update[ok]] = pd.NA
        clean = pd.DataFrame(
            {
                "row": rows[ok].to_numpy(dtype="int64"),
                "person_id": person_id[ok],
                "entitlement_id": updated_ids,
                "action": np.where(update, "update", np.where(insert, "insert", ""))[ok],
                "scheme": scheme[ok],
                "start_month": start[ok],
                "stop_month": stop[ok],
                **{name: yuan_column(cents[name][ok]) for name in _AMOUNTS},
                "region": region[ok],
                "unchanged": unchanged[ok],
            }
        )
        return errors.frame(), clean

    def _check_pension_age(
        self,
        ok: np.ndarray,
        numbers: pd.Series,
        region: np.ndarray,
        births: np.ndarray,
        start: np.ndarray,
        ctx: ValidationContext,
        refuse: Callable[..., None],
    ) -> None:
        """DOMAIN §2.3: no basic pension before the original retirement age (60 for a man, the lower
        of the two women's ages), the parameters in force today for the row's pooling area."""
        if not ok.any():
            return
        today = np.datetime64(ctx.today, "D")
        stretch, sets = parameters_by_stretch(
            [MALE_AGE_KEY, *FEMALE_AGE_KEYS],
            pd.Series(np.where(ok, region, None)),
            pd.Series(np.where(ok, today, np.datetime64("NaT", "D")).astype("datetime64[ns]")),
        )
        answered = np.array([s.values is not None for s in sets] + [False])
        # Every row that reached here has a region (the file's or the county's), so a set (stretch >= 0).
        missing = ok & (stretch >= 0) & ~answered[stretch]
        refuse(
            missing,
            "start_month",
            "missing_parameter",
            [{**sets[stretch[i]].missing, "date": str(ctx.today)} for i in np.flatnonzero(missing)],
        )
        ages = np.array(
            [
                (
                    s.values[MALE_AGE_KEY].integer(),
                    min(s.values[key].integer() for key in FEMALE_AGE_KEYS),
                )
                if s.values
                else (0, 0)
                for s in sets
            ]
            + [(0, 0)],
            dtype="int64",
        )
        # The sex from the ID number, as Person.sex is derived (DOMAIN §6.1: odd 17th digit, a man).
        male = numbers.str[16].astype("int64").to_numpy() % 2 == 1
        age = np.where(male, ages[stretch, 0], ages[stretch, 1])
        earliest = _month_index(births) + age * 12
        early = ok & ~missing & (_month_index(start) < earliest)
        refuse(
            early,
            "start_month",
            "before_pension_age",
            [
                {"age": int(age[i]), "month": _month_text(np.datetime64(int(earliest[i]), "M"))}
                for i in np.flatnonzero(early)
            ],
        )

    # --- Commit -----------------------------------------------------------------------------------

    def stage(self, clean: pd.DataFrame, batch: Any, cursor: Any) -> int:
        # One batch per transaction: ON COMMIT DROP leaves nothing behind, even after a rollback.
        # The DROP is for a caller that commits two batches inside one outer transaction.
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{_STAGE}")
        cursor.execute(
            f"CREATE TEMP TABLE {_STAGE} (row integer NOT NULL, person_id bigint PRIMARY KEY,"
            " entitlement_id bigint, action varchar(6) NOT NULL, scheme varchar(16) NOT NULL,"
            " start_month date NOT NULL, stop_month date, basic numeric(12, 2) NOT NULL,"
            " account numeric(12, 2) NOT NULL, top_up numeric(12, 2) NOT NULL,"
            " region varchar(6) NOT NULL) ON COMMIT DROP"
        )
        writing = clean[~clean["unchanged"].astype(bool)]
        columns = ["row", "person_id", "entitlement_id", "action", "scheme", "start_month", "stop_month"]
        # An empty entitlement id or stop month is an unquoted empty field: NULL in COPY's csv format.
        copy_to_stage(cursor, _STAGE, writing, [*columns, *_AMOUNTS, "region"], date_format="%Y-%m-%d")
        return len(writing)

    def merge(self, batch: Any, cursor: Any) -> dict[str, int]:
        # The WHERE clauses repeat the checks (the township, one open entitlement, a changeable one
        # with the same start), so a row someone changed since the re-check is not written; the
        # framework compares the counts and rolls everything back if short.
        fire_row_triggers_cheaply(cursor)
        township_rule = (
            "AND EXISTS (SELECT 1 FROM enrollment_person p WHERE p.id = s.person_id"
            " AND p.township_id = %(township)s)"
            if batch.township_id
            else ""
        )
        params = {
            "programme": _PROGRAMME,
            "paying": EntitlementStatus.PAYING.value,
            "stopped": EntitlementStatus.STOPPED.value,
            "stop_reason": StopReason.OTHER.value,
            "source": SOURCE,
            "batch": batch.pk,
            "file": batch.original_name,
            "by": batch.confirmed_by_id,
            "township": batch.township_id,
            "changeable": list(_CHANGEABLE),
        }
        origin = "jsonb_build_object('batch', %(batch)s::bigint, 'file', %(file)s::text, 'row', s.row)"
        cursor.execute(
            f"""
            INSERT INTO benefits_benefitentitlement (
                person_id, programme, status, region, account_balance, contribution_years,
                basic, account, top_up, start_month, stop_month, stop_reason, suspended_from,
                suspension_reason, restored_month, backpay_months, backpay_amount, rejection_reason,
                note, snapshot, decided_by_id, created_at, updated_at
            )
            SELECT s.person_id, %(programme)s, %(paying)s, s.region, 0, 0,
                   s.basic, s.account, s.top_up, s.start_month, NULL, '', NULL,
                   '', NULL, '[]'::jsonb, 0, '',
                   '', jsonb_build_object('source', %(source)s::text, 'scheme', s.scheme,
                                          'import', {origin}),
                   %(by)s, now(), now()
              FROM {_STAGE} s
             WHERE s.action = 'insert' {township_rule}
               AND NOT EXISTS (
                   SELECT 1 FROM benefits_benefitentitlement e
                    WHERE e.person_id = s.person_id AND e.programme = %(programme)s
                      AND e.status NOT IN ({_CLOSED_SQL}))
             ORDER BY s.person_id
            """,
            params,
        )
        inserted = cursor.rowcount
        # One UPDATE for the changed entitlements and the stop of new ones: an open entitlement is
        # unique per person and programme, so (person, programme, start, changeable) finds the one
        # on record (its id must match) or the one just inserted. PAYING/SUSPENDED → STOPPED are
        # edges the status trigger allows; the row-version trigger records each row.
        cursor.execute(
            f"""
            WITH changed AS (
                UPDATE benefits_benefitentitlement e
                   SET basic = s.basic, account = s.account, top_up = s.top_up, region = s.region,
                       status = CASE WHEN s.stop_month IS NULL THEN e.status ELSE %(stopped)s END,
                       stop_month = s.stop_month,
                       stop_reason = CASE WHEN s.stop_month IS NULL THEN '' ELSE %(stop_reason)s END,
                       suspended_from = CASE WHEN s.stop_month IS NULL THEN e.suspended_from END,
                       suspension_reason = CASE WHEN s.stop_month IS NULL THEN e.suspension_reason
                                           ELSE '' END,
                       snapshot = e.snapshot
                           || CASE WHEN s.action = 'update' THEN jsonb_build_object('updated',
                                  {origin} || jsonb_build_object('previous', jsonb_build_object(
                                      'basic', e.basic::text, 'account', e.account::text,
                                      'top_up', e.top_up::text, 'region', e.region)))
                              ELSE '{{}}'::jsonb END
                           || CASE WHEN s.stop_month IS NULL THEN '{{}}'::jsonb
                              ELSE jsonb_build_object('stop', jsonb_build_object(
                                  'reason', %(stop_reason)s::text, 'stop_month', s.stop_month::text,
                                  'source', %(source)s::text, 'import', {origin})) END,
                       decided_by_id = %(by)s, updated_at = now()
                  FROM {_STAGE} s
                 WHERE e.person_id = s.person_id AND e.programme = %(programme)s
                   AND e.start_month = s.start_month AND e.status = ANY(%(changeable)s)
                   AND (s.action = 'update' OR s.stop_month IS NOT NULL)
                   AND (s.entitlement_id IS NULL OR e.id = s.entitlement_id)
                   {township_rule}
                RETURNING s.action, s.stop_month IS NOT NULL AS stops
            )
            SELECT count(*) FILTER (WHERE action = 'update'),
                   count(*) FILTER (WHERE action = 'insert'),
                   count(*) FILTER (WHERE stops),
                   (SELECT count(*) FROM {_STAGE} WHERE action = 'insert' AND stop_month IS NOT NULL)
              FROM changed
            """,
            params,
        )
        updated, new_stopped, stopped, new_to_stop = cursor.fetchone()
        # A new entitlement that should have stopped and did not is a row not fully written: it is
        # not counted, so the framework's comparison fails and everything rolls back.
        return {
            "inserted": inserted - (new_to_stop - new_stopped),
            "updated": int(updated),
            "stopped": int(stopped),
        }

    # --- Messages ---------------------------------------------------------------------------------

    def error_message(self, code: str, params: dict[str, Any]) -> str | None:
        if code in ("name_mismatch", "missing_parameter"):
            return registry_message(code, params)
        messages: dict[str, Any] = {
            "unknown_scheme": lambda: (
                gettext(
                    "Unknown scheme. Write %(employee)s or %(gov_inst)s (or the code, e.g. employee_pension)."
                )
                % {
                    "employee": Scheme.EMPLOYEE_PENSION.label,
                    "gov_inst": Scheme.GOV_INST_PENSION.label,
                }
            ),
            "not_a_pension_scheme": lambda: (
                gettext(
                    "%(scheme)s is not paid on this list: it records the employee pension and the "
                    "government and institution pension."
                )
                % {"scheme": scheme_label(params.get("scheme"))}
            ),
            "bad_month": lambda: gettext("This is not a month. Write months as 2024-03."),
            "future_month": lambda: gettext(
                "The pension starts after the current month; import it once it has started."
            ),
            "stop_before_start": lambda: (
                gettext(
                    "The stop month comes before the start month %(start)s. "
                    "Correct whichever of the two months is wrong."
                )
                % {"start": params.get("start", "")}
            ),
            "bad_amount": lambda: gettext(
                "This is not an amount in yuan with at most two decimals, such as 300 or 320.50."
            ),
            "negative_amount": lambda: gettext(
                "An amount cannot be negative. "
                "Write the monthly amount on the province's list, such as 320.50."
            ),
            "zero_pension": lambda: gettext(
                "The amounts of this row add up to 0; a pension pays something. "
                "Copy the basic and the personal-account pension from the province's list."
            ),
            "total_mismatch": lambda: (
                gettext(
                    "The amounts of this row add up to %(sum)s, not to this total. "
                    "Correct the amount that is wrong, or leave the total empty."
                )
                % {"sum": params.get("sum", "")}
            ),
            "bad_region": lambda: gettext(
                "A pooling area is a 6-digit division code, such as 360121 or 360000; "
                "leave it empty for the county's."
            ),
            "after_death": lambda: (
                gettext(
                    "The pension starts after the death on %(date)s. Check the start month and the ID number."
                )
                % {"date": params.get("date", "")}
            ),
            "before_pension_age": lambda: (
                gettext(
                    "The pension starts before %(month)s, when this person reaches %(age)s, "
                    "the earliest age at which a basic pension can start. "
                    "Check the start month and the ID number."
                )
                % {"month": params.get("month", ""), "age": params.get("age", "")}
            ),
            "person_deceased": lambda: (
                gettext("This person died on %(date)s: give the month the province stopped the pension.")
                % {"date": params.get("date", "")}
            ),
            "other_start": lambda: (
                gettext(
                    "This person already has entitlement %(id)s to the employee pension from %(start)s "
                    "(%(status)s). An import does not change its start month; stop it first."
                )
                % self._entitlement(params)
            ),
            "entitlement_not_paying": lambda: (
                gettext(
                    "Entitlement %(id)s of this person is %(status)s; an import changes only a paying "
                    "or suspended pension. Finish its review first, or leave this row out."
                )
                % self._entitlement(params)
            ),
            "other_scheme": lambda: (
                gettext(
                    "Entitlement %(id)s of this person is for the %(scheme)s; an import does not change "
                    "the scheme. Check the scheme column; if the province changed the scheme, stop the "
                    "entitlement first."
                )
                % self._entitlement(params)
            ),
            "already_stopped": lambda: (
                gettext(
                    "Entitlement %(id)s from %(start)s was stopped from %(stop)s. An import does not reopen "
                    "or change a stopped entitlement. Leave this row out."
                )
                % self._entitlement(params)
            ),
        }
        answer = messages.get(code)
        return answer() if answer is not None else None

    @staticmethod
    def _entitlement(params: dict[str, Any]) -> dict[str, str]:
        status = params.get("status", "")
        return {
            "id": str(params.get("id", "")),
            "start": str(params.get("start", "")),
            "stop": str(params.get("stop", "")),
            "status": str(EntitlementStatus(status).label)
            if status in EntitlementStatus.values
            else str(status),
            "scheme": scheme_label(params.get("scheme")),
        }


def _entitlements_on_record(person_ids: np.ndarray, starts: np.ndarray) -> pd.DataFrame:
    """For each given row (by position), its person's open employee-pension entitlement, else the
    latest stopped one with the row's start month: id, status, scheme (the snapshot's, the
    employee pension when none), region, start and stop month, amounts in cents. One query."""
    columns = ["position", "id", "status", "scheme", "region", "start_month", "stop_month", *_AMOUNTS]
    if len(person_ids) == 0:
        return pd.DataFrame(columns=columns)
    # The rows go as comma-separated texts (ids and day numbers), cheaper than arrays to build.
    days = starts.astype("datetime64[D]").astype("int64")
    sql = f"""
        SELECT DISTINCT ON (f.position)
               f.position - 1, e.id, e.status, coalesce(e.snapshot ->> 'scheme', %s), e.region,
               e.start_month - date '1970-01-01', e.stop_month - date '1970-01-01',
               (e.basic * 100)::bigint, (e.account * 100)::bigint, (e.top_up * 100)::bigint
          FROM unnest(string_to_array(%s, ',')::bigint[], string_to_array(%s, ',')::integer[])
               WITH ORDINALITY AS f(person_id, start_day, position)
          JOIN benefits_benefitentitlement e
            ON e.person_id = f.person_id AND e.programme = %s
           AND (e.status NOT IN ({_CLOSED_SQL})
                OR (e.status = %s AND e.start_month = date '1970-01-01' + f.start_day))
         ORDER BY f.position, e.status IN ({_CLOSED_SQL}), e.id DESC
    """
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                Scheme.EMPLOYEE_PENSION.value,
                int_list(person_ids),
                ",".join(days.astype(str)),
                _PROGRAMME,
                EntitlementStatus.STOPPED.value,
            ],
        )
        found = pd.DataFrame(cursor.fetchall(), columns=columns)
    for column in ("start_month", "stop_month"):
        day_numbers = pd.to_numeric(found[column], errors="coerce").astype("Float64")
        found[column] = pd.to_datetime(day_numbers.astype("float64"), unit="D", origin="unix")
    return found
