"""Employer lists (用人单位名单) from market regulation: one row per organization, keyed by its
unified social credit code (DOMAIN §6.2, §8.1 Organization), added with one INSERT … SELECT.

The rules are those of organization_register: the code passes the §6.2 wrapper, which accepts
the letter-prefixed codes python-stdnum refuses (E20); a known size class (划型); a township of
the county, which must be the batch's own when the batch has one; a size classification year
that is not in the future.

A code already registered is never changed by an import: organization_register refuses a
registered code and no service updates an organization. So a row equal to the registration is
unchanged (the same list sent again), and a row that differs is a bad row naming each differing
column and what is registered. An empty optional cell (industry, year, basis) says nothing about
a registered organization and is not compared; for a new one the year is this year's.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from enrollment.choices import SizeClass
from enrollment.import_kinds.common import (
    RowErrors,
    choice_codes,
    choice_lookup,
    copy_to_stage,
    credit_code_message,
    credit_codes,
    fire_row_triggers_cheaply,
    fold_text,
    widen,
)
from socialsec.core.choices import DivisionLevel
from socialsec.imports.choices import ProgressStep
from socialsec.imports.columns import conflicting_groups, first_rows
from socialsec.imports.kinds import ValidationContext
from socialsec.lib.spreadsheets import Table

_STAGE = "imports_stage_employers"
# Organization's max_length per column.
_MAX = {"name": 200, "industry": 100, "size_class_basis": 200}
# organization_register's earliest size classification year.
_FIRST_YEAR = 1990

# How lists write the size classes (data); code identifiers and both languages' labels as well.
SIZE_CLASS_ALIASES: dict[str, tuple[str, ...]] = {
    SizeClass.LARGE: ("大", "大型", "大型企业"),
    SizeClass.MEDIUM: ("中", "中型", "中型企业"),
    SizeClass.SMALL: ("小", "小型", "小型企业"),
    SizeClass.MICRO: ("微", "微型", "微型企业"),
}


@cache
def _size_classes() -> dict[str, str]:
    return choice_lookup(SizeClass, SIZE_CLASS_ALIASES)


class Employers:
    name = "employers"
    label = _("Employers")
    columns = {
        "credit_code": [
            "统一社会信用代码",
            "社会信用代码",
            "信用代码",
            "Unified social credit code",
            "Credit code",
        ],
        "name": ["单位名称", "用人单位名称", "企业名称", "名称", "Name"],
        "size_class": ["企业划型", "划型", "企业规模", "规模", "Size class"],
        "industry": ["所属行业", "行业", "Industry"],
        "township": ["所属乡镇", "乡镇（街道）", "乡镇街道", "乡镇", "Township"],
        "size_class_year": ["划型年度", "Size classification year"],
        "size_class_basis": ["划型依据", "Size classification basis"],
    }
    required = ["credit_code", "name", "size_class"]
    template_rows = [
        ["91360121MA38ABCD1Y", "南昌县某某制造有限公司", "小型", "制造业", "360121100000", "2024", ""],
        ["N2360121MF00000013", "莲塘镇东山村股份经济合作社", "微型", "农业", "莲塘镇", "2024", ""],
    ]
    touches = ["enrollment.Organization"]

    # --- Validation -------------------------------------------------------------------------------

    def validate(self, table: Table, ctx: ValidationContext) -> tuple[pd.DataFrame, pd.DataFrame]:
        frame, numeric = table.frame, table.numeric
        errors = RowErrors.of_file(self.columns, table)
        rows, cells, add = errors.rows, errors.cells, errors.add

        # The credit code through the §6.2 wrapper (E20: N-, Y- and A-prefixed codes accepted).
        codes, code_errors = credit_codes(cells["credit_code"], numeric.get("credit_code"))
        bad = (code_errors != "").to_numpy().copy()
        for code in pd.unique(code_errors[bad]):
            mask = (code_errors == code).to_numpy()
            if code == "credit_code_empty":
                add(mask, "credit_code", "required")
            else:
                add(mask, "credit_code", code, [{"value": v} for v in cells["credit_code"][mask]])

        # Texts: the name is required; nothing longer than the registry keeps.
        # (The reader has folded full-width forms and trimmed; inner runs of spaces become one.)
        texts = {
            name: cells[name].str.replace(r"\s+", " ", regex=True)
            for name in ("name", "industry", "size_class_basis")
        }
        bad |= add((texts["name"] == "").to_numpy(), "name", "required")
        for name, limit in _MAX.items():
            bad |= add((texts[name].str.len() > limit).to_numpy(), name, "too_long", {"max": limit})

        # The size class (划型): a code identifier or a label, in either language.
        size_class = choice_codes(cells["size_class"], _size_classes())
        bad |= add((cells["size_class"] == "").to_numpy(), "size_class", "required")
        unknown = (size_class.isna() & (cells["size_class"] != "")).to_numpy()
        bad |= add(unknown, "size_class", "unknown_size_class")

        # The size classification year: empty, or a past or current year (organization_register).
        raw_year = cells["size_class_year"].str.removesuffix("年")
        year = pd.to_numeric(
            raw_year.where(raw_year.str.fullmatch(r"[0-9]{4}").fillna(False)), errors="coerce"
        )
        bad_year = ((raw_year != "") & ~year.between(_FIRST_YEAR, ctx.today.year)).to_numpy()
        bad |= add(bad_year, "size_class_year", "bad_year", {"last": ctx.today.year})

        # The township: its 12-digit code or its name; empty means the batch's township.
        township, township_code, township_params = _townships(cells["township"], ctx)
        for code in pd.unique(township_code[township_code != ""]):
            mask = (township_code == code).to_numpy()
            bad |= add(mask, "township", code, list(township_params[mask]))

        # Inside the file, among rows that read well: the same code twice with the same data is a
        # repeat (an error on the later rows); with different data, every such row is an error.
        ok = ~bad
        data = pd.DataFrame(
            {
                "code": codes[ok],
                "name": texts["name"][ok],
                "size_class": size_class[ok],
                "industry": texts["industry"][ok],
                "township": township[ok],
                "year": year[ok].fillna(0),
                "basis": texts["size_class_basis"][ok],
            }
        )
        # One 64-bit hash of each row's other cells (vectorised; a row-wise join costs ~40x more).
        signature = pd.util.hash_pandas_object(data.drop(columns="code").astype(str), index=False)
        conflict, groups = conflicting_groups(data["code"], signature, rows[ok])
        if conflict.any():
            add(widen(conflict, ok), "credit_code", "conflicting_codes", [{"rows": g} for g in groups])
            ok &= ~widen(conflict, ok)
            data = data[~conflict]
        repeat, first = first_rows(data[["code"]], rows[ok])
        if repeat.any():
            add(
                widen(repeat, ok),
                "credit_code",
                "duplicate_row",
                [{"first_row": int(r)} for r in first.to_numpy()[repeat]],
            )
            ok &= ~widen(repeat, ok)

        # Against the registry, in one query: a code on record is unchanged when every given cell
        # agrees with it, and a bad row naming each column that does not.
        ctx.on_step(ProgressStep.REGISTRY, 50)
        registered = _organizations(codes[ok].tolist())
        on_record = codes[ok].isin(registered.index).to_numpy()
        unchanged = np.zeros(len(frame), dtype=bool)
        if on_record.any():
            among = widen(on_record, ok)
            facts = registered.loc[codes[among]]
            failed = np.zeros(len(frame), dtype=bool)
            elsewhere = np.zeros(len(frame), dtype=bool)
            if ctx.township_id is not None:
                # Registered to another township's organization: the clerk learns no more of it.
                elsewhere = widen((facts["township_id"].to_numpy() != ctx.township_id), among)
                add(elsewhere, "credit_code", "registered_elsewhere")
            visible = among & ~elsewhere
            facts = registered.loc[codes[visible]]
            ids = facts["id"].to_numpy()
            for column, given, stored, optional in (
                ("name", texts["name"][visible], facts["name"].map(fold_text), False),
                ("size_class", size_class[visible], facts["size_class"], False),
                ("industry", texts["industry"][visible], facts["industry"].map(fold_text), True),
                ("township", township[visible].astype("int64"), facts["township_id"], False),
                ("size_class_year", year[visible], facts["size_class_year"], True),
                (
                    "size_class_basis",
                    texts["size_class_basis"][visible],
                    facts["size_class_basis"].map(fold_text),
                    True,
                ),
            ):
                given_values = given.to_numpy(dtype=object)
                stored_values = stored.to_numpy(dtype=object)
                differs = given_values != stored_values
                if optional:  # an empty optional cell says nothing, so it is not compared
                    differs &= ~pd.isna(given.to_numpy()) & (given.astype(str).to_numpy() != "")
                shown = (
                    facts["township_name"].to_numpy(dtype=object) if column == "township" else stored_values
                )
                failed |= add(
                    widen(differs, visible),
                    column,
                    "organization_differs",
                    [
                        {"id": int(i), "field": column, "registered": str(s)}
                        for i, s in zip(ids[differs], shown[differs], strict=True)
                    ],
                )
            unchanged = visible & ~failed
            ok &= ~(elsewhere | failed)

        this_year = ctx.today.year
        clean = pd.DataFrame(
            {
                "row": rows[ok].to_numpy(),
                "credit_code": codes[ok].to_numpy(dtype=object),
                "name": texts["name"][ok].to_numpy(dtype=object),
                "size_class": size_class[ok].to_numpy(dtype=object),
                "size_class_basis": texts["size_class_basis"][ok].to_numpy(dtype=object),
                "size_class_year": year[ok].fillna(this_year).astype("int64").to_numpy(),
                "industry": texts["industry"][ok].to_numpy(dtype=object),
                "township_id": township[ok].astype("int64").to_numpy(),
                "unchanged": unchanged[ok],
            }
        )
        return errors.frame(), clean

    # --- Commit -----------------------------------------------------------------------------------

    def stage(self, clean: pd.DataFrame, batch: Any, cursor: Any) -> int:
        # ON COMMIT DROP: nothing is left behind, even after a rollback; the DROP is for a caller
        # committing two batches inside one outer transaction (each commit is then a savepoint).
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{_STAGE}")
        cursor.execute(
            f"CREATE TEMP TABLE {_STAGE} (row integer NOT NULL, credit_code varchar(18) PRIMARY KEY,"
            " name varchar(200) NOT NULL, size_class varchar(6) NOT NULL,"
            " size_class_basis varchar(200) NOT NULL, size_class_year smallint NOT NULL,"
            " industry varchar(100) NOT NULL, township_id bigint NOT NULL) ON COMMIT DROP"
        )
        adding = clean[~clean["unchanged"].astype(bool)]
        columns = [
            "row",
            "credit_code",
            "name",
            "size_class",
            "size_class_basis",
            "size_class_year",
            "industry",
            "township_id",
        ]
        # Empty texts are empty strings here, not NULL.
        copy_to_stage(
            cursor, _STAGE, adding, columns, options=", FORCE_NOT_NULL (size_class_basis, industry)"
        )
        return len(adding)

    def merge(self, batch: Any, cursor: Any) -> dict[str, int]:
        # A code someone registered since the re-check is skipped (DO NOTHING), never overwritten;
        # the framework then finds fewer rows than staged and rolls the whole batch back.
        fire_row_triggers_cheaply(cursor)
        township_rule = "WHERE s.township_id = %(township)s" if batch.township_id else ""
        cursor.execute(
            f"""
            INSERT INTO enrollment_organization (credit_code, registration_authority, entity_type, name,
                        size_class, size_class_basis, size_class_year, industry, township_id,
                        created_at, updated_at)
            SELECT s.credit_code, substr(s.credit_code, 1, 1), substr(s.credit_code, 2, 1), s.name,
                   s.size_class, s.size_class_basis, s.size_class_year, s.industry, s.township_id,
                   now(), now()
              FROM {_STAGE} s
              {township_rule}
             ORDER BY s.credit_code  -- one order for every import: two of them wait, never deadlock
                ON CONFLICT (credit_code) DO NOTHING
            """,
            {"township": batch.township_id},
        )
        return {"inserted": cursor.rowcount}

    # --- Messages ---------------------------------------------------------------------------------

    def error_message(self, code: str, params: dict[str, Any]) -> str | None:
        answer = credit_code_message(code, params)
        if answer is not None:
            return answer
        if code == "unknown_size_class":
            return gettext("Unknown size class. Write one of: %(classes)s.") % {
                "classes": "、".join(str(choice.label) for choice in SizeClass)
            }
        if code == "bad_year":
            return gettext("The size classification year must be a year from %(first)s to %(last)s.") % {
                "first": _FIRST_YEAR,
                "last": params.get("last", ""),
            }
        if code == "unknown_township":
            return gettext("No township of the county has this code or name.")
        if code == "ambiguous_township":
            return gettext("Several townships have this name; write the township's 12-digit code.")
        if code == "not_batch_township":
            return gettext("This list is for %(township)s; the organization's township is %(other)s.") % {
                "township": params.get("township", ""),
                "other": params.get("other", ""),
            }
        if code == "conflicting_codes":
            return gettext(
                "The same credit code is in rows %(rows)s with different values; keep only the right row."
            ) % {"rows": "、".join(str(row) for row in params.get("rows", []))}
        if code == "registered_elsewhere":
            return gettext(
                "This credit code is already registered to an organization of another township; "
                "an import does not move it."
            )
        if code == "organization_differs":
            registered = params.get("registered", "")
            if params.get("field") == "size_class" and registered in SizeClass.values:
                registered = SizeClass(registered).label
            return gettext(
                "Organization %(id)s is registered under this credit code with %(registered)s "
                "in this column. An import adds new organizations and does not change registered ones."
            ) % {"id": params.get("id", ""), "registered": registered or gettext("nothing")}
        return None


def _townships(values: pd.Series, ctx: ValidationContext) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(township id, error code, error params) per row; the id is NaN where the code is set.

    A township is named by its 12-digit statistical code (DOMAIN §6.3) or its name; an empty cell
    is the batch's township, and in a township's batch any other township is an error.
    """
    from socialsec.core.models import AdministrativeDivision

    found = pd.DataFrame(
        AdministrativeDivision.objects.filter(level=DivisionLevel.TOWNSHIP)
        .exclude(valid_to__lt=ctx.today)
        .values_list("id", "code", "name"),
        columns=["id", "code", "name"],
    )
    by_code = dict(zip(found["code"], found["id"], strict=True))
    folded = found["name"].map(fold_text)
    counts = folded.value_counts()
    by_name = {name: i for name, i in zip(folded, found["id"], strict=True) if counts[name] == 1}
    names = dict(zip(found["id"], found["name"], strict=True))

    ids = values.map(by_code).fillna(values.map(fold_text).map(by_name))
    codes = pd.Series("", index=values.index, dtype=object)
    params = pd.Series([{} for _ in range(len(values))], index=values.index, dtype=object)
    empty = values == ""
    if ctx.township_id is not None:
        ids = ids.where(~empty, ctx.township_id)
        other = ids.notna() & (ids != ctx.township_id)
        codes[other] = "not_batch_township"
        params.loc[other] = pd.Series(
            [{"township": ctx.township_name, "other": names[int(i)]} for i in ids[other]],
            index=ids[other].index,
            dtype=object,
        )
    else:
        codes[empty] = "required"
    ambiguous = ids.isna() & ~empty & values.map(fold_text).map(lambda name: counts.get(name, 0) > 1)
    codes[ambiguous] = "ambiguous_township"
    codes[ids.isna() & ~empty & ~ambiguous] = "unknown_township"
    return ids.where(codes == ""), codes, params


def _organizations(codes: list[str]) -> pd.DataFrame:
    """The registered organizations with these credit codes, indexed by code (one query)."""
    columns = [
        "credit_code",
        "id",
        "name",
        "size_class",
        "industry",
        "township_id",
        "township_name",
        "size_class_year",
        "size_class_basis",
    ]
    if not codes:
        return pd.DataFrame(columns=columns).set_index("credit_code")
    # Codes hold only the 31 symbols of §6.2, so one comma-separated text carries them.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT o.credit_code, o.id, o.name, o.size_class, o.industry, o.township_id, t.name,"
            " o.size_class_year, o.size_class_basis"
            " FROM enrollment_organization o"
            " JOIN unnest(string_to_array(%s, ',')) AS wanted(credit_code)"
            " ON o.credit_code = wanted.credit_code"
            " JOIN core_administrativedivision t ON t.id = o.township_id",
            [",".join(codes)],
        )
        found = pd.DataFrame(cursor.fetchall(), columns=columns)
    return found.set_index("credit_code")
