"""Special-group lists (特殊群体名单) from civil affairs, rural revitalization and the disability
federation: one row per membership (DOMAIN glossary, §8.1 PersonCategory), added with one
INSERT … SELECT. The rules are those of person_category_add: a known group and source, the
membership starting between the birth date and the date of death, a severe disability with
grade 1 or 2 (DOMAIN §4.3), and never two memberships of one person in the same group that
share a day (the trigger person_category_no_overlap says the same in the database).

What a clerk sees instead of the trigger's refusal: every row that overlaps a membership already
on record, or another row of the file, is a bad row naming the other one. A row equal to a
membership on record (same group, grade, source and dates: the same list sent again) is counted
as unchanged and written nowhere. An existing membership is never changed by import: ending one
is person_category_end's step, on the person page.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from enrollment.choices import CategorySource, SpecialGroup
from enrollment.import_kinds.common import (
    ID_NUMBER_HEADERS,
    NAME_HEADERS,
    RowErrors,
    check_id_and_name,
    choice_keys,
    choice_lookup,
    copy_to_stage,
    fire_row_triggers_cheaply,
    names_differ,
    persons_by_id_number,
    registry_message,
    unregistered,
    validate_in_two_steps,
    widen,
)
from enrollment.services import SEVERE_DISABILITY_GRADES
from socialsec.imports.choices import ProgressStep
from socialsec.imports.columns import dates, first_rows
from socialsec.imports.kinds import ValidationContext
from socialsec.lib.spreadsheets import Table

_STAGE = "imports_stage_special_groups"
# The rows as check_file kept them, for commit_prepared.
_FILE_STAGE = "imports_stage_special_groups_file"
# An open end (no effective_to) as a day number later than any real one.
_OPEN_END = np.int64(10**7)
_ROWS_NAMED = 20  # at most this many other rows are named in one error

# How other departments write the groups and themselves (data, like the files' Chinese headers).
# The code identifiers and both languages' labels are accepted as well (choice_lookup).
GROUP_ALIASES: dict[str, tuple[str, ...]] = {
    SpecialGroup.MINIMUM_LIVING_ALLOWANCE: (
        "低保",
        "最低生活保障",
        "低保对象",
        "城乡低保",
        "城市低保",
        "农村低保",
    ),
    SpecialGroup.EXTREME_POVERTY_SUPPORT: (
        "特困",
        "特困人员",
        "特困供养",
        "特困供养人员",
        "特困人员救助供养",
    ),
    SpecialGroup.RETURNED_TO_POVERTY: ("返贫致贫", "返贫致贫人口", "返贫", "致贫"),
    SpecialGroup.LIFTED_OUT_OF_POVERTY: ("已脱贫", "已脱贫人口", "脱贫人口", "脱贫户"),
    SpecialGroup.SEVERE_DISABILITY: ("重度残疾", "重度残疾人"),
    SpecialGroup.LOW_INCOME: ("低收入", "低收入人口", "低收入对象"),
    SpecialGroup.ORPHAN: ("孤儿",),
}
SOURCE_ALIASES: dict[str, tuple[str, ...]] = {
    CategorySource.CIVIL_AFFAIRS: ("民政", "民政局", "民政部门", "县民政局"),
    CategorySource.RURAL_REVITALIZATION: ("乡村振兴", "乡村振兴局", "乡村振兴部门", "扶贫办"),
    CategorySource.DISABILITY_FEDERATION: ("残联", "残疾人联合会", "县残联"),
}
# A disability grade as certificates write it: 1, 一, 一级, 1级 … (DOMAIN §8.1 DisabilityCertificate).
_GRADES = {
    form: grade
    for grade, forms in {
        1: ("1", "一", "壹"),
        2: ("2", "二", "贰"),
        3: ("3", "三", "叁"),
        4: ("4", "四", "肆"),
    }.items()
    for form in forms
}


@cache
def _groups() -> dict[str, str]:
    return choice_lookup(SpecialGroup, GROUP_ALIASES)


@cache
def _sources() -> dict[str, str]:
    return choice_lookup(CategorySource, SOURCE_ALIASES)


def _iso(day: Any) -> str:
    return "" if pd.isna(day) else f"{pd.Timestamp(day):%Y-%m-%d}"


class SpecialGroups:
    name = "special_groups"
    label = _("Special groups (civil affairs, disability federation)")
    columns = {
        "id_number": [*ID_NUMBER_HEADERS],
        "name": [*NAME_HEADERS],
        "category": ["人员类别", "特殊群体类别", "群体类别", "类别", "Special group", "Category"],
        "disability_grade": ["残疾等级", "Disability grade"],
        "effective_from": ["起始日期", "生效日期", "开始日期", "认定日期", "In force from", "Effective from"],
        "effective_to": ["终止日期", "截止日期", "结束日期", "In force until", "Effective to"],
        "source": ["来源部门", "数据来源", "来源", "Source department", "Source"],
    }
    required = ["id_number", "name", "category", "effective_from", "source"]
    template_rows = [
        ["360121196003150132", "张三", "低保", "", "2024-01-01", "", "民政"],
        ["360121198507020242", "李四", "重度残疾", "一级", "2024-01-01", "2026-12-31", "残联"],
    ]
    touches = ["enrollment.PersonCategory"]

    # --- Validation -------------------------------------------------------------------------------

    def validate(self, table: Table, ctx: ValidationContext) -> tuple[pd.DataFrame, pd.DataFrame]:
        return validate_in_two_steps(self, table, ctx)

    def check_file(self, table: Table, ctx: ValidationContext) -> tuple[pd.DataFrame, pd.DataFrame]:
        """What the file alone says: IDs, names, groups, grades, dates and the file's own repeats
        and overlaps. Returns the errors and the rows that passed, with the cells the registry's
        errors quote; the commit re-runs only check_registry on them."""
        frame, numeric = table.frame, table.numeric
        errors = RowErrors.of_file(self.columns, table)
        rows, cells, add = errors.rows, errors.cells, errors.add

        # The ID number (§6.1, E19) and the name, compared with the registry's in check_registry.
        numbers, names, bad = check_id_and_name(errors, numeric, ctx.today)

        # The group and the source department: a code identifier or a label, in either language.
        group = choice_keys(cells["category"]).map(_groups())
        bad |= add((cells["category"] == "").to_numpy(), "category", "required")
        bad |= add((group.isna() & (cells["category"] != "")).to_numpy(), "category", "unknown_category")
        source = choice_keys(cells["source"]).map(_sources())
        bad |= add((cells["source"] == "").to_numpy(), "source", "required")
        bad |= add((source.isna() & (cells["source"] != "")).to_numpy(), "source", "unknown_source")

        # The grade: 1–4 when given; a severe disability needs 1 or 2 (DOMAIN §4.3).
        raw_grade = cells["disability_grade"]
        grade = raw_grade.str.removesuffix("级").str.strip().map(_GRADES).astype("Int64")
        unreadable = (grade.isna() & (raw_grade != "")).to_numpy()
        bad |= add(unreadable, "disability_grade", "bad_grade")
        severe = (group == SpecialGroup.SEVERE_DISABILITY).to_numpy()
        not_severe_grade = (
            severe & ~unreadable & ~grade.isin(SEVERE_DISABILITY_GRADES).fillna(False).to_numpy()
        )
        bad |= add(not_severe_grade, "disability_grade", "severe_grade")

        # The dates: the first day is required, the last day (inclusive) is optional.
        start = dates(cells["effective_from"], numeric.get("effective_from"))
        end = dates(cells["effective_to"], numeric.get("effective_to"))
        bad |= add((cells["effective_from"] == "").to_numpy(), "effective_from", "required")
        bad |= add((start.isna() & (cells["effective_from"] != "")).to_numpy(), "effective_from", "bad_date")
        bad_end = (end.isna() & (cells["effective_to"] != "")).to_numpy()
        bad |= add(bad_end, "effective_to", "bad_date")
        bad |= add((end < start).to_numpy(), "effective_to", "dates_reversed")

        # Inside the file, among rows that read well: an exact repeat is an error on the later rows;
        # two rows of one person and group sharing a day are both errors, naming each other.
        ok = ~bad
        start_day = pd.Series(
            np.where(ok, start.to_numpy().astype("datetime64[D]").astype("int64"), 0), index=frame.index
        )
        end_day = pd.Series(
            np.where(
                ok & end.notna().to_numpy(), end.to_numpy().astype("datetime64[D]").astype("int64"), _OPEN_END
            ),
            index=frame.index,
        )
        keys = pd.DataFrame(
            {
                "number": numbers[ok],
                "group": group[ok],
                "start": start_day[ok],
                "end": end_day[ok],
                "grade": grade[ok].fillna(0),
                "source": source[ok],
            }
        )
        repeat, first = first_rows(keys, rows[ok])
        if repeat.any():
            add(
                widen(repeat, ok),
                "id_number",
                "duplicate_row",
                [{"first_row": int(r)} for r in first.to_numpy()[repeat]],
            )
            ok &= ~widen(repeat, ok)
        overlapping, groups = _overlaps_in_file(numbers[ok], group[ok], start_day[ok], end_day[ok], rows[ok])
        if overlapping.any():
            add(
                widen(overlapping, ok),
                "effective_from",
                "overlapping_rows",
                [{"rows": rows_named, "group": g} for rows_named, g in groups],
            )
            ok &= ~widen(overlapping, ok)

        prepared = pd.DataFrame(
            {
                "row": rows[ok].to_numpy(dtype="int64"),
                "number": numbers[ok].to_numpy(dtype=object),
                "name": names[ok].to_numpy(dtype=object),
                "category": group[ok].to_numpy(dtype=object),
                "disability_grade": pd.array(grade[ok], dtype="Int64"),
                "source": source[ok].to_numpy(dtype=object),
                "effective_from": start[ok].to_numpy().astype("datetime64[D]"),
                "effective_to": end[ok].to_numpy().astype("datetime64[D]"),
                "start_day": start_day[ok].to_numpy(dtype="int64"),
                "end_day": end_day[ok].to_numpy(dtype="int64"),
                **errors.kept_cells(ok, ["id_number", "name", "effective_from"]),
            }
        )
        return errors.frame(), prepared

    def check_registry(
        self, prepared: pd.DataFrame, ctx: ValidationContext
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Against the registry and the memberships on record, as they are now."""
        rows = prepared["row"]
        numbers = prepared["number"]
        names = prepared["name"]
        group = prepared["category"]
        grade = prepared["disability_grade"]
        source = prepared["source"]
        start = pd.Series(pd.to_datetime(prepared["effective_from"]), index=prepared.index)
        end = pd.Series(pd.to_datetime(prepared["effective_to"]), index=prepared.index)
        start_day = prepared["start_day"]
        end_day = prepared["end_day"]
        errors = RowErrors.of_prepared(self.columns, prepared)
        add = errors.add
        ok = np.ones(len(prepared), dtype=bool)

        # Against the registry: the person, in the batch's township (DOMAIN scoping: another
        # township's person is not found, as on every page), with this name, alive on the first day.
        ctx.on_step(ProgressStep.REGISTRY, 50)
        registry = persons_by_id_number(numbers[ok].unique().tolist(), ctx.township_id)
        ok &= ~unregistered(numbers, ok, registry, ctx, errors)
        if ok.any():
            facts = registry.loc[numbers[ok]]
            wrong_name, registered = names_differ(names[ok].to_numpy(dtype=object), facts["name"])
            births = facts["birth_date"].to_numpy()
            deaths = facts["death_date"].to_numpy()
            first_day = start[ok].to_numpy()
            before_birth = first_day < births
            after_death = ~pd.isna(deaths) & (first_day > deaths)
            failed = np.zeros(len(prepared), dtype=bool)
            for mask, column, code, params in (
                (wrong_name, "name", "name_mismatch", registered),
                (
                    before_birth,
                    "effective_from",
                    "before_birth",
                    [
                        {"date": _iso(s), "birth": _iso(b)}
                        for s, b in zip(first_day[before_birth], births[before_birth], strict=True)
                    ],
                ),
                (
                    after_death,
                    "effective_from",
                    "after_death",
                    [
                        {"date": _iso(s), "death": _iso(d)}
                        for s, d in zip(first_day[after_death], deaths[after_death], strict=True)
                    ],
                ),
            ):
                failed |= add(widen(mask, ok), column, code, params)
            ok &= ~failed

        # Against the memberships on record, in one query: an equal one is unchanged, any other
        # sharing a day is the row's error (the trigger would refuse the whole commit for it).
        ctx.on_step(ProgressStep.REGISTRY, 70)
        person_ids = (
            registry.loc[numbers[ok], "id"].to_numpy(dtype="int64") if ok.any() else np.array([], "int64")
        )
        on_record = _memberships_on_record(person_ids, group[ok], start_day[ok], end_day[ok])
        unchanged = np.zeros(len(prepared), dtype=bool)
        if not on_record.empty:
            positions = on_record["position"].to_numpy()
            same = (
                (
                    on_record["grade"].fillna(0).to_numpy(dtype="int64")
                    == grade[ok].fillna(0).to_numpy(dtype="int64")[positions]
                )
                & (on_record["source"].to_numpy() == source[ok].to_numpy()[positions])
                & (on_record["start"].to_numpy() == start_day[ok].to_numpy()[positions])
                & (on_record["end"].to_numpy() == end_day[ok].to_numpy()[positions])
            )
            unchanged = widen(positions[same], ok)
            clash = on_record[~same]
            clash_rows = widen(clash["position"].to_numpy(), ok)
            add(
                clash_rows,
                "effective_from",
                "overlaps_membership",
                [
                    {
                        "id": int(m.id),
                        "group": m.category,
                        "start": _iso(pd.Timestamp(int(m.start), unit="D")),
                        "end": "" if m.end == _OPEN_END else _iso(pd.Timestamp(int(m.end), unit="D")),
                    }
                    # widen keeps file order, and positions ascend in on_record: the params align.
                    for m in clash.sort_values("position").itertuples()
                ],
            )
            ok &= ~clash_rows

        clean = pd.DataFrame(
            {
                "row": rows[ok].to_numpy(),
                "person_id": registry.loc[numbers[ok], "id"].to_numpy(dtype="int64") if ok.any() else [],
                "category": group[ok].to_numpy(dtype=object),
                "disability_grade": pd.array(grade[ok], dtype="Int64"),
                "source": source[ok].to_numpy(dtype=object),
                "effective_from": start[ok].to_numpy().astype("datetime64[D]"),
                "effective_to": end[ok].to_numpy().astype("datetime64[D]"),
                "unchanged": unchanged[ok],
            }
        )
        return errors.frame(), clean

    # --- Commit -----------------------------------------------------------------------------------

    def stage(self, clean: pd.DataFrame, batch: Any, cursor: Any) -> int:
        # One batch per transaction: ON COMMIT DROP leaves nothing behind, even after a rollback.
        # The DROP is for a caller that commits two batches inside one outer transaction (the
        # commit is then a savepoint, and the first table is still there).
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{_STAGE}")
        cursor.execute(
            f"CREATE TEMP TABLE {_STAGE} (row integer NOT NULL, person_id bigint NOT NULL,"
            " category varchar(24) NOT NULL, disability_grade smallint, source varchar(21) NOT NULL,"
            " effective_from date NOT NULL, effective_to date) ON COMMIT DROP"
        )
        adding = clean[~clean["unchanged"].astype(bool)]
        columns = [
            "row",
            "person_id",
            "category",
            "disability_grade",
            "source",
            "effective_from",
            "effective_to",
        ]
        # An empty grade or last day is an unquoted empty field: NULL in COPY's csv format.
        copy_to_stage(cursor, _STAGE, adding, columns, date_format="%Y-%m-%d")
        return len(adding)

    def merge(self, batch: Any, cursor: Any) -> dict[str, int]:
        # The WHERE repeats the registry checks, so a row that someone else's change made wrong
        # since the re-check is not written; the framework compares the count and rolls back.
        # The trigger person_category_no_overlap still checks each row, as for every writer.
        fire_row_triggers_cheaply(cursor)
        where = f"""{_PERSON_RULES} {_township_rule(batch)}
               AND NOT EXISTS (
                   SELECT 1 FROM enrollment_personcategory c
                    WHERE c.person_id = s.person_id AND c.category = s.category
                      AND daterange(c.effective_from, c.effective_to, '[]')
                          && daterange(s.effective_from, s.effective_to, '[]'))"""
        cursor.execute(
            _insert_memberships(f"{_STAGE} s JOIN enrollment_person p ON p.id = s.person_id", where),
            _write_params(batch),
        )
        return {"inserted": cursor.rowcount}

    def commit_prepared(self, prepared: pd.DataFrame, batch: Any, cursor: Any) -> dict[str, int] | None:
        """The commit when nothing changed since the check: check_registry's rules in the write.

        The rows of check_file go to a temp table, and one statement joins each to its person (in
        the batch's township, under the name on the list, born by and alive on the first day) and
        to the membership of its group on record that shares a day: none → inserted; an equal one
        → unchanged; any other → neither. Unless every row was inserted or unchanged, returns None
        and the framework rolls this back and runs check_registry, which names the rows.
        """
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{_FILE_STAGE}")
        cursor.execute(
            f"CREATE TEMP TABLE {_FILE_STAGE} (row integer NOT NULL, id_number varchar(18) NOT NULL,"
            " name text NOT NULL, category varchar(24) NOT NULL, disability_grade smallint,"
            " source varchar(21) NOT NULL, effective_from date NOT NULL, effective_to date) ON COMMIT DROP"
        )
        rows = prepared.rename(columns={"number": "id_number"}).assign(
            effective_from=pd.to_datetime(prepared["effective_from"]),
            effective_to=pd.to_datetime(prepared["effective_to"]),
        )
        columns = ["row", "id_number", "name", "category", "disability_grade", "source"]
        copy_to_stage(
            cursor, _FILE_STAGE, rows, [*columns, "effective_from", "effective_to"], date_format="%Y-%m-%d"
        )
        fire_row_triggers_cheaply(cursor)
        cursor.execute(
            rf"""
            WITH checked AS MATERIALIZED (
                SELECT p.id AS person_id, s.category, s.disability_grade, s.source,
                       s.effective_from, s.effective_to, on_record.equal
                  FROM {_FILE_STAGE} s
                  JOIN enrollment_person p ON p.id_number = s.id_number
                  LEFT JOIN LATERAL (
                       SELECT c.effective_from = s.effective_from
                              AND c.effective_to IS NOT DISTINCT FROM s.effective_to
                              AND c.source = s.source
                              AND c.disability_grade IS NOT DISTINCT FROM s.disability_grade AS equal
                         FROM enrollment_personcategory c
                        WHERE c.person_id = p.id AND c.category = s.category
                          AND daterange(c.effective_from, c.effective_to, '[]')
                              && daterange(s.effective_from, s.effective_to, '[]')
                        ORDER BY c.id
                        LIMIT 1) on_record ON true
                 WHERE regexp_replace(p.name, '\s+', '', 'g') = s.name
                   AND {_PERSON_RULES} {_township_rule(batch)}
            ), inserted AS ({_insert_memberships("checked s", "s.equal IS NULL")} RETURNING 1)
            SELECT (SELECT count(*) FROM inserted), count(*) FILTER (WHERE equal) FROM checked
            """,
            _write_params(batch),
        )
        inserted, unchanged = cursor.fetchone()
        if inserted + unchanged != len(prepared):
            return None
        return {"inserted": inserted, "unchanged": unchanged}

    # --- Messages ---------------------------------------------------------------------------------

    def error_message(self, code: str, params: dict[str, Any]) -> str | None:
        group = _group_label(params.get("group"))
        if code == "unknown_category":
            return gettext("Unknown special group. Write one of: %(groups)s.") % {
                "groups": "、".join(str(choice.label) for choice in SpecialGroup)
            }
        if code == "unknown_source":
            return gettext("Unknown source department. Write one of: %(sources)s.") % {
                "sources": "、".join(str(choice.label) for choice in CategorySource)
            }
        if code == "bad_grade":
            return gettext("A disability grade is 1, 2, 3 or 4.")
        if code == "severe_grade":
            return gettext("A severe disability is grade 1 or 2; give the grade on the certificate.")
        if code == "dates_reversed":
            return gettext(
                "The last day in force comes before the first. Correct whichever of the two dates is wrong."
            )
        if code == "name_mismatch":
            return registry_message(code, params)
        if code == "before_birth":
            return gettext(
                "The membership starts %(date)s, before the birth date %(birth)s. "
                "Check the date and the ID number."
            ) % {
                "date": params.get("date", ""),
                "birth": params.get("birth", ""),
            }
        if code == "after_death":
            return gettext(
                "The membership starts %(date)s, after the date of death %(death)s. "
                "Check the date and the ID number."
            ) % {
                "date": params.get("date", ""),
                "death": params.get("death", ""),
            }
        if code == "overlapping_rows":
            return gettext(
                "Rows %(rows)s give the same person in %(group)s for periods that share days; "
                "keep one row per period."
            ) % {"rows": "、".join(str(row) for row in params.get("rows", [])), "group": group}
        if code == "overlaps_membership":
            return gettext(
                "This person already belongs to %(group)s from %(start)s to %(end)s (membership %(id)s), "
                "which shares days with this row. An import does not change a membership on record; "
                "end it on the person page first."
            ) % {
                "group": group,
                "start": params.get("start", ""),
                "end": params.get("end") or gettext("open"),
                "id": params.get("id", ""),
            }
        return None


def _group_label(value: Any) -> str:
    try:
        return str(SpecialGroup(value).label)
    except ValueError:
        return str(value or "")


# The registry's rules both writes repeat (s: the row, p: its person): born by and alive on the
# first day (check_registry's before_birth and after_death).
_PERSON_RULES = (
    "s.effective_from >= p.birth_date AND (p.death_date IS NULL OR s.effective_from <= p.death_date)"
)


def _township_rule(batch: Any) -> str:
    """The person in the batch's township (DOMAIN scoping), when the batch has one."""
    return "AND p.township_id = %(township)s" if batch.township_id else ""


def _write_params(batch: Any) -> dict[str, Any]:
    return {"evidence": evidence_of(batch), "by": batch.confirmed_by_id, "township": batch.township_id}


def _insert_memberships(rows: str, where: str) -> str:
    """The one INSERT … SELECT of both writes: the memberships of `rows` (aliased s) where `where` holds."""
    return f"""
        INSERT INTO enrollment_personcategory (person_id, category, disability_grade, source,
                    effective_from, effective_to, evidence, recorded_by_id, created_at, updated_at)
        SELECT s.person_id, s.category, s.disability_grade, s.source, s.effective_from, s.effective_to,
               %(evidence)s, %(by)s, now(), now()
          FROM {rows}
         WHERE {where}
         -- The trigger locks per person and group: a fixed order makes two imports of the
         -- same persons wait for each other instead of deadlocking.
         ORDER BY s.person_id, s.category, s.effective_from
    """


def evidence_of(batch: Any) -> str:
    """What a membership added by import records as its evidence: the batch and its file (data)."""
    return f"导入批次 {batch.pk}：{batch.original_name}"[:500]


def _overlaps_in_file(
    numbers: pd.Series, group: pd.Series, start: pd.Series, end: pd.Series, rows: pd.Series
) -> tuple[np.ndarray, list[tuple[list[int], str]]]:
    """Rows sharing a day with another row of the same person and group: (mask, (rows, group) per row).

    Sorted by person, group and first day, the rows fall into runs in which each row starts on or
    before the latest last day so far; every row of a run of two or more shares a day with another.
    """
    if len(numbers) == 0:
        return np.zeros(0, dtype=bool), []
    frame = pd.DataFrame(
        {
            "number": numbers.to_numpy(dtype=object),
            "group": group.to_numpy(dtype=object),
            "start": start.to_numpy(dtype="int64"),
            "end": end.to_numpy(dtype="int64"),
            "row": rows.to_numpy(dtype="int64"),
        }
    )
    ordered = frame.sort_values(["number", "group", "start", "end"], kind="stable")
    by_key = [ordered["number"], ordered["group"]]
    latest_end = ordered.groupby(by_key, sort=False)["end"].cummax()
    previous = latest_end.groupby(by_key, sort=False).shift(1)
    run = (previous.isna() | (ordered["start"] > previous)).cumsum()
    size = run.map(run.value_counts())
    in_overlap = (size > 1).reindex(frame.index).to_numpy()
    if not in_overlap.any():
        return in_overlap, []
    run_rows = ordered["row"].groupby(run).agg(lambda r: sorted(int(x) for x in r)[:_ROWS_NAMED])
    named = run.reindex(frame.index)[in_overlap].map(run_rows)
    return in_overlap, list(zip(named.tolist(), frame["group"][in_overlap].tolist(), strict=True))


def _memberships_on_record(
    person_ids: np.ndarray, group: pd.Series, start: pd.Series, end: pd.Series
) -> pd.DataFrame:
    """For each given row (by position) that shares a day with a membership on record, the first
    such membership: position, id, category, grade, source, start and end as day numbers."""
    columns = ["position", "id", "category", "grade", "source", "start", "end"]
    if len(person_ids) == 0:
        return pd.DataFrame(columns=columns)
    # The rows go as comma-separated texts (ids, codes, day numbers; an open end is empty, so
    # NULL): cheaper to build and parse than arrays of 100,000 elements.
    open_end = end.to_numpy() == _OPEN_END
    ends = np.where(open_end, "", end.to_numpy().astype(str))
    sql = """
        SELECT DISTINCT ON (f.position)
               f.position - 1, c.id, c.category, c.disability_grade, c.source,
               c.effective_from - date '1970-01-01', c.effective_to - date '1970-01-01'
          FROM unnest(string_to_array(%s, ',')::bigint[], string_to_array(%s, ','),
                      string_to_array(%s, ',')::integer[], string_to_array(%s, ',', '')::integer[])
               WITH ORDINALITY AS f(person_id, category, start_day, end_day, position)
          JOIN enrollment_personcategory c
            ON c.person_id = f.person_id AND c.category = f.category
           AND daterange(c.effective_from, c.effective_to, '[]')
               && daterange(date '1970-01-01' + f.start_day, date '1970-01-01' + f.end_day, '[]')
         ORDER BY f.position, c.id
    """
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                ",".join(person_ids.astype(str)),
                ",".join(group.to_numpy(dtype=str)),
                ",".join(start.to_numpy().astype(str)),
                ",".join(ends),
            ],
        )
        found = pd.DataFrame(cursor.fetchall(), columns=columns)
    found["grade"] = pd.to_numeric(found["grade"]).astype("Int64") if len(found) else found["grade"]
    found["end"] = found["end"].fillna(_OPEN_END).astype("int64") if len(found) else found["end"]
    return found
