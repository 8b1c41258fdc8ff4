"""Death records (死亡名单) from civil affairs: one row per deceased resident, setting
Person.death_date and death_source. The rules are those of person_record_death: the
date lies between the birth date and today, and a death already on record is never
overwritten by a different date (the same date again is left as it is).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from enrollment.import_kinds.common import (
    ID_NUMBER_HEADERS,
    NAME_HEADERS,
    RowErrors,
    check_id_numbers,
    check_past_dates,
    copy_to_stage,
    drop_rows_repeated_in_file,
    fire_row_triggers_cheaply,
    persons_by_id_number,
    registry_message,
    validate_in_two_steps,
    widen,
)
from socialsec.imports.kinds import ValidationContext
from socialsec.lib.spreadsheets import Table

# Stored in Person.death_source when the file has no source column: the list's own name
# (data, like the file's Chinese headers, not a user-interface string).
DEFAULT_DEATH_SOURCE = "民政死亡名单"
_SOURCE_MAX = 100  # Person.death_source max_length
_STAGE = "imports_stage_death_records"


class DeathRecords:
    name = "death_records"
    label = _("Death records (civil affairs)")
    columns = {
        "id_number": [*ID_NUMBER_HEADERS],
        "name": [*NAME_HEADERS],
        "death_date": ["死亡日期", "Date of death"],
        "source": ["数据来源", "来源", "Source"],
    }
    required = ["id_number", "death_date"]
    template_rows = [["360121196003150013", "张三", "2024-03-05", DEFAULT_DEATH_SOURCE]]
    touches = ["enrollment.Person"]

    # --- Validation -------------------------------------------------------------------------------

    def validate(self, table: Table, ctx: ValidationContext) -> tuple[pd.DataFrame, pd.DataFrame]:
        return validate_in_two_steps(self, table, ctx)

    def check_file(self, table: Table, ctx: ValidationContext) -> tuple[pd.DataFrame, pd.DataFrame]:
        """What the file alone says: IDs, dates, sources, and the file's duplicate rows.

        Returns the errors and the rows that passed (their row, number, date and source, and
        the cells as written, which errors quote), which check_registry takes; the commit
        re-runs only that second step.
        """
        frame = table.frame
        rows = pd.Series(table.rows, index=frame.index, dtype="int64")
        numeric = table.numeric
        errors = RowErrors(self.columns, rows, frame)

        # The ID number: empty, stored as a number, or refused by the §6.1 rules.
        raw_ids = frame["id_number"]
        numbers, id_ok = check_id_numbers(raw_ids, numeric.get("id_number"), ctx.today, errors)

        # The date of death: present, a date, not in the future.
        raw_dates = frame["death_date"]
        death, date_ok = check_past_dates(
            "death_date", raw_dates, numeric.get("death_date"), ctx.today, errors
        )

        if "source" in frame:
            source = frame["source"].where(frame["source"] != "", DEFAULT_DEATH_SOURCE)
            too_long = (source.str.len() > _SOURCE_MAX).to_numpy()
            errors.add(too_long, "source", "too_long", {"max": _SOURCE_MAX})
        else:
            source = pd.Series(DEFAULT_DEATH_SOURCE, index=frame.index)
            too_long = np.zeros(len(frame), dtype=bool)
        names = frame["name"] if "name" in frame else pd.Series("", index=frame.index)

        # Duplicates inside the file, among rows whose ID and date read well: the same person
        # with different dates makes every such row an error; an exact repeat, the later rows.
        ok = id_ok & date_ok & ~too_long
        day = pd.Series(
            np.where(ok, death.to_numpy().astype("datetime64[D]").astype("int64"), 0), index=frame.index
        )
        ok = drop_rows_repeated_in_file(numbers, day, rows, ok, errors)

        prepared = pd.DataFrame(
            {
                "row": rows[ok].to_numpy(dtype="int64"),
                "number": numbers[ok].to_numpy(dtype=object),
                "death_date": death[ok].to_numpy(),
                "source": source[ok].to_numpy(dtype=object),
                # The cells as the file has them, for the values the registry's errors quote.
                "id_number_cell": raw_ids[ok].to_numpy(dtype=object),
                "death_date_cell": raw_dates[ok].to_numpy(dtype=object),
                "name": names[ok].to_numpy(dtype=object),
            }
        )
        return errors.frame(), prepared

    def check_registry(
        self, prepared: pd.DataFrame, ctx: ValidationContext
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Against the registry: the person, in the batch's township, alive or dead on this same day."""
        rows = prepared["row"]
        numbers = prepared["number"]
        death = prepared["death_date"]
        cells = pd.DataFrame(
            {
                "id_number": prepared["id_number_cell"],
                "name": prepared["name"],
                "death_date": prepared["death_date_cell"],
            }
        )
        errors = RowErrors(self.columns, rows, cells)

        ctx.on_step("registry", 50)
        registry = persons_by_id_number(pd.unique(numbers.to_numpy()).tolist(), ctx.township_id)
        # One lookup of each row's person (-1: not in the registry, or not in the township).
        position = registry.index.get_indexer(numbers)
        ok = position >= 0
        errors.add(
            ~ok,
            "id_number",
            "person_not_found",
            {"township": ctx.township_name} if ctx.township_name else None,
        )

        if ok.any():
            facts = registry.iloc[position[ok]]
            given_name = prepared["name"].to_numpy(dtype=object)[ok]
            registered_name = facts["name"].to_numpy(dtype=object)
            differs = (given_name != "") & (given_name != registered_name)
            # A space typed inside a name ("张 三") is not a different name.
            given_name[differs] = ["".join(name.split()) for name in given_name[differs]]
            births = facts["birth_date"].to_numpy()
            recorded = facts["death_date"]
            day_of_death = death.to_numpy()[ok]
            wrong_name = (given_name != "") & (given_name != registered_name)
            before_birth = day_of_death < births
            other_death = (recorded.notna() & (recorded.to_numpy() != day_of_death)).to_numpy()
            failed = np.zeros(len(prepared), dtype=bool)
            for mask, column, code, params in (
                (
                    wrong_name,
                    "name",
                    "name_mismatch",
                    [{"registered": n} for n in registered_name[wrong_name]],
                ),
                (
                    before_birth,
                    "death_date",
                    "before_birth",
                    [{"birth_date": f"{pd.Timestamp(d):%Y-%m-%d}"} for d in births[before_birth]],
                ),
                (
                    other_death,
                    "death_date",
                    "already_dead",
                    [{"death_date": f"{d:%Y-%m-%d}"} for d in recorded[other_death]],
                ),
            ):
                failed |= errors.add(widen(mask, ok), column, code, params)
            ok &= ~failed

        facts = registry.iloc[position[ok]]
        clean = pd.DataFrame(
            {
                "row": rows[ok].to_numpy(),
                "person_id": facts["id"].to_numpy(dtype="int64"),
                "death_date": death[ok].to_numpy().astype("datetime64[D]"),
                "death_source": prepared["source"][ok].to_numpy(),
                # The same death already on record: nothing to write, and not an error.
                "unchanged": facts["death_date"].notna().to_numpy(),
            }
        )
        return errors.frame(), clean

    # --- Commit -----------------------------------------------------------------------------------

    def stage(self, clean: pd.DataFrame, batch: Any, cursor: Any) -> int:
        # One batch per transaction: ON COMMIT DROP leaves nothing behind, even after a rollback.
        cursor.execute(
            f"CREATE TEMP TABLE {_STAGE} (row integer NOT NULL, person_id bigint PRIMARY KEY,"
            f" death_date date NOT NULL, death_source varchar({_SOURCE_MAX}) NOT NULL) ON COMMIT DROP"
        )
        changing = clean[~clean["unchanged"].astype(bool)]
        copy_to_stage(cursor, _STAGE, changing, ["row", "person_id", "death_date", "death_source"])
        return len(changing)

    def merge(self, batch: Any, cursor: Any) -> dict[str, int]:
        # The WHERE repeats the checks, so a row someone changed since the re-check is not
        # overwritten; the framework compares the count and rolls everything back if short.
        township_rule = "AND p.township_id = %s" if batch.township_id else ""
        # The audit trigger still fires for every row; this spares each call a subtransaction.
        fire_row_triggers_cheaply(cursor)
        cursor.execute(
            f"""
            UPDATE enrollment_person p
               SET death_date = s.death_date, death_source = s.death_source, updated_at = now()
              FROM {_STAGE} s
             WHERE p.id = s.person_id AND p.death_date IS NULL AND s.death_date >= p.birth_date
                   {township_rule}
            """,
            [batch.township_id] if batch.township_id else [],
        )
        return {"updated": cursor.rowcount}

    # --- Messages ---------------------------------------------------------------------------------

    def error_message(self, code: str, params: dict[str, Any]) -> str | None:
        if code == "name_mismatch":
            return registry_message(code, params)
        if code == "before_birth":
            return gettext("The date of death is before the birth date %(date)s.") % {
                "date": params.get("birth_date", "")
            }
        if code == "already_dead":
            return gettext(
                "This person is already recorded as dead on %(date)s; a correction is not made by import."
            ) % {"date": params.get("death_date", "")}
        return None
