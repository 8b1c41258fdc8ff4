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
from django.db import connection, transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from enrollment.choices import CategorySource, SpecialGroup
from enrollment.import_kinds.common import (
    ID_NUMBER_HEADERS,
    NAME_HEADERS,
    RowErrors,
    check_id_and_name,
    choice_codes,
    choice_lookup,
    copy_columns,
    fire_row_triggers_cheaply,
    int_list,
    per_distinct,
    registry_message,
    validate_in_two_steps,
    widen,
)
from enrollment.services import SEVERE_DISABILITY_GRADES
from socialsec.imports.choices import ProgressStep
from socialsec.imports.columns import dates, first_rows
from socialsec.imports.kinds import ValidationContext
from socialsec.lib.spreadsheets import Table

_STAGE = "imports_stage_special_groups"
# check_registry's stage of the rows check_file kept (the batch's own stage is named by the framework).
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
        errors quote, which check_staged (or check_registry) checks against the registry."""
        frame, numeric = table.frame, table.numeric
        errors = RowErrors.of_file(self.columns, table)
        rows, cells, add = errors.rows, errors.cells, errors.add

        # The ID number (§6.1, E19) and the name, compared with the registry's in check_staged.
        numbers, names, bad = check_id_and_name(errors, numeric, ctx.today)

        # The group and the source department: a code identifier or a label, in either language.
        group = choice_codes(cells["category"], _groups())
        bad |= add((cells["category"] == "").to_numpy(), "category", "required")
        bad |= add((group.isna() & (cells["category"] != "")).to_numpy(), "category", "unknown_category")
        source = choice_codes(cells["source"], _sources())
        bad |= add((cells["source"] == "").to_numpy(), "source", "required")
        bad |= add((source.isna() & (cells["source"] != "")).to_numpy(), "source", "unknown_source")

        # The grade: 1–4 when given; a severe disability needs 1 or 2 (DOMAIN §4.3).
        raw_grade = cells["disability_grade"]
        grade = per_distinct(raw_grade, lambda d: d.str.removesuffix("级").str.strip().map(_GRADES))
        grade = grade.astype("Int64")
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
        # two rows of one person and group sharing a day are both errors, naming each other. Only
        # rows whose ID number comes again can be either: the rest skip the sorting.
        ok = ~bad
        again = widen(numbers[ok].duplicated(keep=False).to_numpy(), ok)
        if again.any():
            start_day = pd.Series(start.to_numpy().astype("datetime64[D]").astype("int64"), index=frame.index)
            end_day = pd.Series(
                np.where(
                    end.notna().to_numpy(), end.to_numpy().astype("datetime64[D]").astype("int64"), _OPEN_END
                ),
                index=frame.index,
            )
            keys = pd.DataFrame(
                {
                    "number": numbers[again],
                    "group": group[again],
                    "start": start_day[again],
                    "end": end_day[again],
                    "grade": grade[again].fillna(0),
                    "source": source[again],
                }
            )
            repeat, first = first_rows(keys, rows[again])
            if repeat.any():
                repeated = add(
                    widen(repeat, again),
                    "id_number",
                    "duplicate_row",
                    [{"first_row": int(r)} for r in first.to_numpy()[repeat]],
                )
                ok &= ~repeated
                again &= ~repeated
            overlapping, groups = _overlaps_in_file(
                numbers[again], group[again], start_day[again], end_day[again], rows[again]
            )
            if overlapping.any():
                ok &= ~add(
                    widen(overlapping, again),
                    "effective_from",
                    "overlapping_rows",
                    [{"rows": rows_named, "group": g} for rows_named, g in groups],
                )
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
                **errors.kept_cells(ok, ["id_number", "name", "effective_from"]),
            }
        )
        return errors.frame(), prepared

    # --- Against the registry ---------------------------------------------------------------------

    # The rows check_file kept, as the stage holds them: the batch's own table, which the framework
    # creates with these columns at the check and the commit writes from, or check_registry's TEMP
    # one. unchanged: the row equals a membership on record (check_staged sets it).
    stage_columns = (
        "row integer NOT NULL, id_number varchar(18) NOT NULL, name text NOT NULL,"
        " category varchar(24) NOT NULL, disability_grade smallint, source varchar(21) NOT NULL,"
        " effective_from date NOT NULL, effective_to date, unchanged boolean NOT NULL DEFAULT false"
    )

    def check_registry(
        self, prepared: pd.DataFrame, ctx: ValidationContext
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """check_staged on a TEMP stage; the clean rows with their persons, ready for stage."""
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{_FILE_STAGE}")
            cursor.execute(f"CREATE TEMP TABLE {_FILE_STAGE} ({self.stage_columns}) ON COMMIT DROP")
            errors = self.check_staged(prepared, _FILE_STAGE, ctx, cursor)
            cursor.execute(
                f"SELECT s.row, p.id, s.unchanged FROM {_FILE_STAGE} s"
                " JOIN enrollment_person p ON p.id_number = s.id_number"
            )
            persons = pd.DataFrame(cursor.fetchall(), columns=["row", "person_id", "unchanged"])
            cursor.execute(f"DROP TABLE {_FILE_STAGE}")
        ok = ~prepared["row"].isin(errors["row"]).to_numpy()
        found = persons.set_index("row").reindex(prepared["row"][ok].to_numpy())
        clean = pd.DataFrame(
            {
                "row": prepared["row"][ok].to_numpy(dtype="int64"),
                "person_id": found["person_id"].to_numpy(dtype="int64"),
                "category": prepared["category"][ok].to_numpy(dtype=object),
                "disability_grade": pd.array(prepared["disability_grade"][ok], dtype="Int64"),
                "source": prepared["source"][ok].to_numpy(dtype=object),
                "effective_from": prepared["effective_from"][ok].to_numpy().astype("datetime64[D]"),
                "effective_to": prepared["effective_to"][ok].to_numpy().astype("datetime64[D]"),
                "unchanged": found["unchanged"].to_numpy(dtype=bool),
            }
        )
        return errors, clean

    def check_staged(
        self, prepared: pd.DataFrame, table: str, ctx: ValidationContext, cursor: Any
    ) -> pd.DataFrame:
        """COPY check_file's rows into `table` (stage_columns) and check them against the registry
        and the memberships on record in one query; returns the errors.

        Each row's person must be in the batch's township (DOMAIN scoping: another township's
        person is not found, as on every page), under the name on the list, born by and alive on
        the first day. A membership of the group on record sharing a day is the row's error (the
        trigger would refuse the whole commit for it), unless it is equal (same dates, grade and
        source: the same list sent again): the row is then marked unchanged and written nowhere.
        The query returns only the rows with something to say, so a clean list costs one join.
        """
        ctx.on_step(ProgressStep.REGISTRY, 50)
        copy_columns(
            cursor,
            table,
            {
                "row": prepared["row"],
                "id_number": prepared["number"],
                "name": prepared["name"],
                "category": prepared["category"],
                "disability_grade": prepared["disability_grade"],
                "source": prepared["source"],
                "effective_from": prepared["effective_from"],
                "effective_to": prepared["effective_to"],
            },
        )
        ctx.on_step(ProgressStep.REGISTRY, 70)
        cursor.execute(
            f"""
            SELECT DISTINCT ON (s.row) s.row, p.id IS NOT NULL, {_NAME_MATCHES},
                   s.effective_from < p.birth_date, s.effective_from > p.death_date,
                   p.name, p.birth_date, p.death_date, c.id, c.effective_from, c.effective_to,
                   {_EQUAL_TO_RECORD}
              FROM {table} s
              LEFT JOIN enrollment_person p ON p.id_number = s.id_number {_township_rule(ctx.township_id)}
              LEFT JOIN enrollment_personcategory c
                ON c.person_id = p.id AND c.category = s.category AND {_SHARES_A_DAY}
             WHERE p.id IS NULL OR NOT {_NAME_MATCHES} OR NOT ({_PERSON_RULES}) OR c.id IS NOT NULL
             ORDER BY s.row, c.id
            """,
            {"township": ctx.township_id},
        )
        found = pd.DataFrame(
            cursor.fetchall(),
            columns=[
                "row",
                "registered",
                "name_ok",
                "before_birth",
                "after_death",
                "name",
                "birth",
                "death",
                "membership",
                "start",
                "end",
                "equal",
            ],
        )
        errors = RowErrors.of_prepared(self.columns, prepared)
        if found.empty:
            return errors.frame()
        for flag in ("registered", "name_ok", "before_birth", "after_death", "equal"):
            found[flag] = found[flag].fillna(False).astype(bool)  # NULL: no person, no death, no membership
        # Each found row's position among the prepared rows (both in file order, so params align).
        positions = pd.Index(prepared["row"]).get_indexer(found["row"])

        def rows_where(mask: pd.Series) -> np.ndarray:
            full = np.zeros(len(prepared), dtype=bool)
            full[positions[mask.to_numpy()]] = True
            return full

        missing = ~found["registered"]
        errors.add(
            rows_where(missing),
            "id_number",
            "person_not_found",
            {"township": ctx.township_name} if ctx.township_name else None,
        )
        found = found[~missing]
        positions = positions[~missing.to_numpy()]
        wrong_name, early, late = ~found["name_ok"], found["before_birth"], found["after_death"]
        errors.add(
            rows_where(wrong_name),
            "name",
            "name_mismatch",
            [{"registered": n} for n in found["name"][wrong_name]],
        )
        first_days = prepared["effective_from"].to_numpy()[positions]
        for mask, code, fact in ((early, "before_birth", "birth"), (late, "after_death", "death")):
            errors.add(
                rows_where(mask),
                "effective_from",
                code,
                [
                    {"date": _iso(day), fact: _iso(known)}
                    for day, known in zip(first_days[mask.to_numpy()], found[fact][mask], strict=True)
                ],
            )
        person_ok = ~(wrong_name | early | late)
        clash = person_ok & found["membership"].notna() & ~found["equal"]
        errors.add(
            rows_where(clash),
            "effective_from",
            "overlaps_membership",
            [
                {
                    "id": int(m.membership),
                    "group": group,
                    "start": _iso(m.start),
                    "end": _iso(m.end) if m.end is not None else "",
                }
                for m, group in zip(
                    found[clash].itertuples(),
                    prepared["category"].to_numpy()[positions[clash.to_numpy()]],
                    strict=True,
                )
            ],
        )
        unchanged = found["row"][person_ok & found["equal"]]
        if len(unchanged):
            cursor.execute(
                f"UPDATE {table} SET unchanged = true WHERE row = ANY(string_to_array(%s, ',')::integer[])",
                [int_list(unchanged)],
            )
        return errors.frame()

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
        copy_columns(cursor, _STAGE, {name: adding[name] for name in columns})
        return len(adding)

    def merge(self, batch: Any, cursor: Any) -> dict[str, int]:
        # The WHERE repeats the registry checks, so a row that someone else's change made wrong
        # since the re-check is not written; the framework compares the count and rolls back.
        # The trigger person_category_no_overlap still checks each row, as for every writer.
        fire_row_triggers_cheaply(cursor)
        where = f"""{_PERSON_RULES} {_township_rule(batch.township_id)}
               AND NOT EXISTS (
                   SELECT 1 FROM enrollment_personcategory c
                    WHERE c.person_id = s.person_id AND c.category = s.category AND {_SHARES_A_DAY})"""
        cursor.execute(
            _insert_memberships(f"{_STAGE} s JOIN enrollment_person p ON p.id = s.person_id", where),
            _write_params(batch),
        )
        return {"inserted": cursor.rowcount}

    def commit_stage(self, table: str, batch: Any, cursor: Any) -> dict[str, int] | None:
        """The commit when nothing changed since the check: check_staged's rules in the write.

        One INSERT … SELECT adds the rows not marked unchanged whose person still passes (in the
        batch's township, under the name on the list, born by and alive on the first day); the
        trigger person_category_no_overlap refuses a membership recorded since the check that
        shares a day (an IntegrityError: the framework takes it as a changed registry). The rows
        marked unchanged must still find their equal membership. Returns the counts, or None when
        a row no longer passes; the framework then rolls this back and checks again, naming the rows.
        """
        township = _township_rule(batch.township_id)
        # The framework calls this only with every row of the batch in the table (rows_valid).
        cursor.execute(f"SELECT count(*) FROM {table} WHERE unchanged")
        unchanged = cursor.fetchone()[0]
        person = f"JOIN enrollment_person p ON p.id_number = s.id_number AND {_NAME_MATCHES}"
        if unchanged:
            cursor.execute(
                f"""
                SELECT count(*) FROM {table} s {person}
                 WHERE s.unchanged AND {_PERSON_RULES} {township}
                   AND EXISTS (
                       SELECT 1 FROM enrollment_personcategory c
                        WHERE c.person_id = p.id AND c.category = s.category AND {_EQUAL_TO_RECORD})
                """,
                _write_params(batch),
            )
            if cursor.fetchone()[0] != unchanged:
                return None
        fire_row_triggers_cheaply(cursor)
        cursor.execute(
            _insert_memberships(
                f"{table} s {person}", f"NOT s.unchanged AND {_PERSON_RULES} {township}", "p.id"
            ),
            _write_params(batch),
        )
        if cursor.rowcount != batch.rows_valid - unchanged:
            return None
        return {"inserted": cursor.rowcount, "unchanged": unchanged}

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


# The name on the list is the registry's, spaces aside (names_differ's rule); the plain comparison
# first, so the usual equal name costs no regular expression.
_NAME_MATCHES = r"(p.name = s.name OR regexp_replace(p.name, '\s+', '', 'g') = s.name)"

# A membership on record (c) of the row's (s) group that shares a day with it: the overlap the
# trigger person_category_no_overlap refuses.
_SHARES_A_DAY = (
    "daterange(c.effective_from, c.effective_to, '[]') && daterange(s.effective_from, s.effective_to, '[]')"
)
# A membership on record (c) equal to the row (s): the same list sent again, "unchanged".
_EQUAL_TO_RECORD = (
    "(c.effective_from = s.effective_from AND c.effective_to IS NOT DISTINCT FROM s.effective_to"
    " AND c.source = s.source AND c.disability_grade IS NOT DISTINCT FROM s.disability_grade)"
)

# The registry's rules both writes repeat (s: the row, p: its person): born by and alive on the
# first day (check_staged's before_birth and after_death).
_PERSON_RULES = (
    "s.effective_from >= p.birth_date AND (p.death_date IS NULL OR s.effective_from <= p.death_date)"
)


def _township_rule(township_id: int | None) -> str:
    """The person in the batch's township (DOMAIN scoping), when the batch has one."""
    return "AND p.township_id = %(township)s" if township_id else ""


def _write_params(batch: Any) -> dict[str, Any]:
    return {"evidence": evidence_of(batch), "by": batch.confirmed_by_id, "township": batch.township_id}


def _insert_memberships(rows: str, where: str, person: str = "s.person_id") -> str:
    """The one INSERT … SELECT of both writes: the memberships of `rows` (aliased s, its person's id
    `person`) where `where` holds."""
    return f"""
        INSERT INTO enrollment_personcategory (person_id, category, disability_grade, source,
                    effective_from, effective_to, evidence, recorded_by_id, created_at, updated_at)
        SELECT {person}, s.category, s.disability_grade, s.source, s.effective_from, s.effective_to,
               %(evidence)s, %(by)s, now(), now()
          FROM {rows}
         WHERE {where}
         -- The trigger locks per person and group: a fixed order makes two imports of the
         -- same persons wait for each other instead of deadlocking.
         ORDER BY {person}, s.category, s.effective_from
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
