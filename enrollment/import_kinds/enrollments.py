"""Enrollment batches (参保登记批量): one row per person and scheme to enrol.

The rules are enrollment_enroll's, applied to the whole file at once (DOMAIN §1.1, §1.6, §8.2):
the person is registered in the batch's township and alive; the enrollment does not start
before the birth date; the resident pension starts at the age of the policy parameter
`resident_pension.enrollment.min_age` in force on the enrollment date, takes no employer,
and is refused while the person is in an open employee or government/institution pension
(§1.1 exclusion, §1.6 Art 8); one open enrollment per person and scheme. The reverse stays
possible as in the service: an employee enrollment beside an open resident one (§1.6 Art 7).
An enrollment already open with the same date and employer is left as it is (not an error);
one with other data is an error, never overwritten. Inside the file, a person appears once
per scheme, and a resident-pension row is refused when the same file enrols the person in
an employee or government/institution pension (in one batch there is no order of rows).
Beyond the service, an enrollment date after today is refused, as in the other kinds.

The commit inserts ACTIVE enrollments (the status enrollment_enroll gives) with one
INSERT … SELECT, which opens the personal account of each pension scheme in the same
statement, as the service does; pghistory's row triggers write the audit rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from enrollment.choices import (
    ACCOUNT_SCHEMES,
    CLOSED_ENROLLMENT_STATUSES,
    EMPLOYMENT_PENSION_SCHEMES,
    RESIDENT_SCHEMES,
    EnrollmentStatus,
    Scheme,
)
from enrollment.import_kinds.common import (
    ID_NUMBER_HEADERS,
    NAME_HEADERS,
    RowErrors,
    check_id_numbers,
    check_past_dates,
    copy_to_stage,
    credit_code_message,
    credit_codes,
    drop_rows_repeated_in_file,
    fire_row_triggers_cheaply,
    int_list,
    parameters_by_stretch,
    registry_message,
    registry_persons,
    scheme_codes,
    unregistered,
    widen,
)
from socialsec.imports.kinds import ValidationContext
from socialsec.lib.spreadsheets import Table

# DOMAIN §1.1: the policy parameter enrollment_enroll reads (region: the person's county).
MIN_AGE_KEY = "resident_pension.enrollment.min_age"
_STAGE = "imports_stage_enrollments"


def _sql_list(values: Any) -> str:
    return ", ".join(f"'{value}'" for value in sorted(str(v) for v in values))


class Enrollments:
    name = "enrollments"
    label = _("Enrollment batches")
    columns = {
        "id_number": [*ID_NUMBER_HEADERS],
        "name": [*NAME_HEADERS],
        "scheme": ["险种", "参保险种", "险种名称", "Scheme"],
        "start_date": ["参保日期", "参保时间", "参保登记日期", "Enrollment date", "Start date"],
        "credit_code": [
            "单位统一社会信用代码",
            "统一社会信用代码",
            "单位信用代码",
            "Employer credit code",
            "Unified social credit code",
        ],
    }
    required = ["id_number", "scheme", "start_date"]
    template_rows = [
        ["360121198005120139", "张三", "城乡居民基本养老保险", "2024-01-01", ""],
        ["360121199209030244", "李四", "职工基本养老保险", "2024-03-01", "91360121MA00000019"],
    ]
    touches = ["enrollment.Enrollment", "enrollment.PersonalAccount"]

    # --- Validation -------------------------------------------------------------------------------

    def validate(self, table: Table, ctx: ValidationContext) -> tuple[pd.DataFrame, pd.DataFrame]:
        frame = table.frame
        rows = pd.Series(table.rows, index=frame.index, dtype="int64")
        numeric = table.numeric
        errors = RowErrors(self.columns, rows, frame)
        add = errors.add
        count = len(frame)

        # The ID number: empty, stored as a number, or refused by the §6.1 rules.
        numbers, id_ok = check_id_numbers(frame["id_number"], numeric.get("id_number"), ctx.today, errors)

        # The scheme: a code identifier, its label in Chinese or English, or a usual other name.
        raw_scheme = frame["scheme"]
        scheme = scheme_codes(raw_scheme)
        empty_scheme = (raw_scheme == "").to_numpy()
        unknown_scheme = scheme.isna().to_numpy() & ~empty_scheme
        add(empty_scheme, "scheme", "required")
        add(unknown_scheme, "scheme", "unknown_scheme", [{"value": v} for v in raw_scheme[unknown_scheme]])
        scheme_ok = ~(empty_scheme | unknown_scheme)
        scheme = scheme.fillna("")

        # The enrollment date: present, a date, not after today.
        start, date_ok = check_past_dates(
            "start_date", frame["start_date"], numeric.get("start_date"), ctx.today, errors
        )

        # The employer's credit code (optional): a valid code (§6.2), and never for a resident scheme.
        code_ok = np.ones(count, dtype=bool)
        credit_code = pd.Series("", index=frame.index, dtype=object)
        if "credit_code" in frame:
            raw_code = frame["credit_code"]
            given = (raw_code != "").to_numpy()
            if given.any():
                flags = numeric.get("credit_code")
                codes, code_errors = credit_codes(
                    raw_code[given], flags[given] if flags is not None else None
                )
                credit_code[given] = codes
                bad = np.zeros(count, dtype=bool)
                bad[given] = (code_errors != "").to_numpy()
                for code in pd.unique(code_errors[code_errors != ""]):
                    mask = np.zeros(count, dtype=bool)
                    mask[given] = (code_errors == code).to_numpy()
                    add(mask, "credit_code", code, [{"value": v} for v in raw_code[mask]])
                resident = given & scheme.isin(list(RESIDENT_SCHEMES)).to_numpy() & ~bad
                add(
                    resident,
                    "credit_code",
                    "resident_scheme_without_employer",
                    [{"scheme": s} for s in scheme[resident]],
                )
                code_ok = ~(bad | resident)

        # Inside the file: one row per person and scheme. The same person and scheme with another
        # date or employer makes every such row an error; an exact repeat, the later rows.
        ok = id_ok & scheme_ok & date_ok & code_ok
        day = pd.Series(
            np.where(ok, start.to_numpy().astype("datetime64[D]").astype("int64"), 0), index=frame.index
        )
        key = numbers + "|" + scheme
        value = day.astype(str) + "|" + credit_code
        ok = drop_rows_repeated_in_file(key, value, rows, ok, errors)

        # §1.1/§1.6 inside the file: no resident pension for a person the same file enrols in an
        # employee or government/institution pension (one batch has no order to decide by).
        employment = ok & scheme.isin(list(EMPLOYMENT_PENSION_SCHEMES)).to_numpy()
        resident = ok & (scheme == Scheme.RESIDENT_PENSION).to_numpy()
        if employment.any() and resident.any():
            rows_of = rows[employment].groupby(numbers[employment]).agg(lambda r: [int(x) for x in r][:20])
            excluded = resident & numbers.isin(rows_of.index).to_numpy()
            add(
                excluded,
                "scheme",
                "resident_pension_excluded_in_file",
                [{"rows": rows_of[number]} for number in numbers[excluded]],
            )
            ok &= ~excluded

        ctx.on_step("registry", 50)
        found = self._check_registry(ctx, frame, numbers, scheme, start, credit_code, ok, errors)
        ok &= ~found["any"]

        # What to write: rows whose enrollment is not yet open.
        clean = pd.DataFrame(
            {
                "row": rows[ok].to_numpy(),
                "person_id": found["person_id"][ok],
                "scheme": scheme[ok].to_numpy(),
                "start_date": start[ok].to_numpy().astype("datetime64[D]"),
                "organization_id": pd.array(found["organization_id"][ok], dtype="Int64"),
                "unchanged": found["unchanged"][ok],
            }
        )
        return errors.frame(), clean

    def _check_registry(
        self,
        ctx: ValidationContext,
        frame: pd.DataFrame,
        numbers: pd.Series,
        scheme: pd.Series,
        start: pd.Series,
        credit_code: pd.Series,
        ok: np.ndarray,
        errors: RowErrors,
    ) -> dict[str, np.ndarray]:
        """The rules of enrollment_enroll against the registry, for the rows that read well.

        Returns masks over every row: "any" (some rule failed), "unchanged" (the same enrollment
        is already open), and the person_id and organization_id to write.
        """
        count = len(frame)
        result = {
            "any": np.zeros(count, dtype=bool),
            "unchanged": np.zeros(count, dtype=bool),
            "person_id": np.zeros(count, dtype=np.int64),
            "organization_id": np.full(count, np.nan),
        }
        registry = registry_persons(numbers[ok].unique().tolist(), ctx.township_id)
        missing = unregistered(numbers, ok, registry, ctx, errors)
        result["any"] |= missing
        ok = ok & ~missing
        if not ok.any():
            return result

        facts = registry.loc[numbers[ok]]
        result["person_id"][ok] = facts["id"].to_numpy(dtype="int64")
        schemes = scheme[ok].to_numpy(dtype=object)
        starts = start[ok].to_numpy().astype("datetime64[D]")
        births = facts["birth_date"].to_numpy().astype("datetime64[D]")
        deaths = facts["death_date"]
        failed = np.zeros(int(ok.sum()), dtype=bool)

        def refuse(mask: np.ndarray, column: str, code: str, params: Any = None) -> None:
            nonlocal failed
            errors.add(widen(mask, ok), column, code, params)
            failed |= mask

        if "name" in frame:
            given = np.array(["".join(n.split()) for n in frame["name"][ok]], dtype=object)
            registered = facts["name"].to_numpy(dtype=object)
            wrong = (given != "") & (given != registered)
            refuse(wrong, "name", "name_mismatch", [{"registered": n} for n in registered[wrong]])
        dead = deaths.notna().to_numpy()
        refuse(dead, "id_number", "person_deceased", [{"date": f"{d:%Y-%m-%d}"} for d in deaths[dead]])
        early = starts < births
        refuse(early, "start_date", "starts_before_birth", [{"date": str(d)} for d in births[early]])

        # §1.1: the resident pension from the minimum age in force on the enrollment date.
        resident = (schemes == Scheme.RESIDENT_PENSION) & ~early
        if resident.any():
            regions = pd.Series(np.where(resident, facts["pooling_area"].to_numpy(dtype=object), None))
            stretch, sets = parameters_by_stretch(
                [MIN_AGE_KEY],
                regions,
                pd.Series(pd.to_datetime(np.where(resident, starts, np.datetime64("NaT")))),
            )
            # Per parameter set, then per row (a row without a set reads set -1, masked out below).
            answered = np.array([s.values is not None for s in sets] + [False])
            ages = np.array([s.values[MIN_AGE_KEY].integer() if s.values else -1 for s in sets] + [-1])
            no_parameter = resident & (stretch >= 0) & ~answered[stretch]
            refuse(
                no_parameter,
                "start_date",
                "missing_parameter",
                [{**sets[stretch[i]].missing, "date": str(starts[i])} for i in np.flatnonzero(no_parameter)],
            )
            min_age = ages[stretch]
            age = _full_years(births, starts)
            young = resident & ~no_parameter & (age < min_age)
            refuse(
                young,
                "start_date",
                "resident_pension_min_age",
                [{"age": int(min_age[i]), "actual": int(age[i])} for i in np.flatnonzero(young)],
            )

        # The employer, by its credit code (reference data: it may sit in another township).
        codes = credit_code[ok].to_numpy(dtype=object)
        with_code = codes != ""
        if with_code.any():
            from enrollment.models import Organization

            found = dict(
                Organization.objects.filter(credit_code__in=set(codes[with_code])).values_list(
                    "credit_code", "id"
                )
            )
            organization = np.array([found.get(c, np.nan) if c else np.nan for c in codes], dtype=float)
            unknown = with_code & np.isnan(organization)
            refuse(unknown, "credit_code", "organization_not_found", [{"value": c} for c in codes[unknown]])
            result["organization_id"][ok] = organization

        # One open enrollment per person and scheme; the resident pension not beside an open
        # employee or government/institution pension (§1.1, §1.6 Art 8).
        wanted = set(schemes) | (
            set(EMPLOYMENT_PENSION_SCHEMES) if (schemes == Scheme.RESIDENT_PENSION).any() else set()
        )
        open_now = open_enrollments(result["person_id"][ok], wanted)
        if not open_now.empty:
            mine = pd.DataFrame(
                {
                    "position": np.arange(int(ok.sum())),
                    "person_id": result["person_id"][ok],
                    "scheme": schemes,
                    "start_date": starts.astype("int64"),
                    "organization_id": result["organization_id"][ok],
                }
            )
            same = mine.merge(open_now, on=["person_id", "scheme"], suffixes=("", "_open"))
            if not same.empty:
                identical = (same["start_date"] == same["start_date_open"]).to_numpy() & (
                    (same["organization_id"] == same["organization_id_open"])
                    | (same["organization_id"].isna() & same["organization_id_open"].isna())
                ).to_numpy()
                positions = same["position"].to_numpy()
                unchanged = np.zeros(len(schemes), dtype=bool)
                unchanged[positions[identical]] = True
                result["unchanged"][ok] = unchanged
                other = np.zeros(len(schemes), dtype=bool)
                other[positions[~identical]] = True
                differing = same[~identical]
                refuse(
                    other,
                    "scheme",
                    "already_enrolled",
                    [
                        {
                            "scheme": s,
                            "date": str(np.datetime64(int(d), "D")),
                            "status": st,
                            "enrollment_id": int(e),
                        }
                        for s, d, st, e in zip(
                            differing["scheme"],
                            differing["start_date_open"],
                            differing["status"],
                            differing["id"],
                            strict=True,
                        )
                    ],
                )
            employment = open_now[open_now["scheme"].isin(list(EMPLOYMENT_PENSION_SCHEMES))]
            if not employment.empty:
                blocking = employment.drop_duplicates("person_id").set_index("person_id")
                person_ids = pd.Series(result["person_id"][ok])
                excluded = (schemes == Scheme.RESIDENT_PENSION) & person_ids.isin(blocking.index).to_numpy()
                refuse(
                    excluded,
                    "scheme",
                    "excluded_by_employment_pension",
                    [
                        {"scheme": blocking.at[p, "scheme"], "enrollment_id": int(blocking.at[p, "id"])}
                        for p in person_ids[excluded]
                    ],
                )
        result["any"][ok] |= failed
        result["unchanged"] &= ~result["any"]
        return result

    # --- Commit -----------------------------------------------------------------------------------

    def stage(self, clean: pd.DataFrame, batch: Any, cursor: Any) -> int:
        # One batch per transaction: ON COMMIT DROP leaves nothing behind, even after a rollback.
        # A caller running two batches inside one outer transaction (a test) finds the first's.
        cursor.execute(f"DROP TABLE IF EXISTS {_STAGE}")
        cursor.execute(
            f"CREATE TEMP TABLE {_STAGE} (row integer NOT NULL, person_id bigint NOT NULL,"
            " scheme varchar(16) NOT NULL, start_date date NOT NULL, organization_id bigint,"
            " PRIMARY KEY (person_id, scheme)) ON COMMIT DROP"
        )
        changing = clean[~clean["unchanged"].astype(bool)]
        copy_to_stage(
            cursor, _STAGE, changing, ["row", "person_id", "scheme", "start_date", "organization_id"]
        )
        return len(changing)

    def merge(self, batch: Any, cursor: Any) -> dict[str, int]:
        # The WHERE repeats the registry rules, so a row someone changed since the re-check is not
        # written; the framework compares the count and rolls everything back if short. No lock on
        # the persons is needed: the unique index keeps one open enrollment per scheme, and an
        # employee enrollment made meanwhile beside a resident one is allowed (§1.6 Art 7).
        township_rule = "AND p.township_id = %(township)s" if batch.township_id else ""
        # Every audit trigger still fires. Without this, each one's pgtrigger.ignore lookup aborts a
        # subtransaction per row, and each abort walks the deferred foreign-key checks queued so far:
        # quadratic (20,000 enrollments: 5.8 s in the trigger, 0.7 s with it).
        fire_row_triggers_cheaply(cursor)
        cursor.execute(
            f"""
            WITH inserted AS (
                INSERT INTO enrollment_enrollment (
                    person_id, scheme, status, pooling_area, start_date, end_date, organization_id,
                    termination_reason, enrolled_by_id, created_at, updated_at
                )
                SELECT s.person_id, s.scheme, %(status)s, left(d.code, 6), s.start_date, NULL,
                       s.organization_id, '', %(by)s, now(), now()
                  FROM {_STAGE} s
                  JOIN enrollment_person p ON p.id = s.person_id
                  JOIN core_administrativedivision d ON d.id = p.township_id
                 WHERE p.death_date IS NULL AND s.start_date >= p.birth_date {township_rule}
                   AND NOT EXISTS (
                       SELECT 1 FROM enrollment_enrollment e
                        WHERE e.person_id = s.person_id AND e.scheme = s.scheme
                          AND e.status NOT IN ({_sql_list(CLOSED_ENROLLMENT_STATUSES)}))
                   AND (s.scheme <> %(resident)s OR NOT EXISTS (
                       SELECT 1 FROM enrollment_enrollment e
                        WHERE e.person_id = s.person_id
                          AND e.scheme IN ({_sql_list(EMPLOYMENT_PENSION_SCHEMES)})
                          AND e.status NOT IN ({_sql_list(CLOSED_ENROLLMENT_STATUSES)})))
                 ORDER BY s.row
                RETURNING person_id, scheme
            ), opened AS (
                -- enrollment_enroll opens the account of a pension scheme once per person and scheme.
                INSERT INTO enrollment_personalaccount (
                    person_id, scheme, personal, collective, government_subsidy, proxy_payment, interest,
                    created_at, updated_at
                )
                SELECT person_id, scheme, 0, 0, 0, 0, 0, now(), now()
                  FROM inserted
                 WHERE scheme IN ({_sql_list(ACCOUNT_SCHEMES)})
                ON CONFLICT (person_id, scheme) DO NOTHING
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM opened)
            """,
            {
                "status": EnrollmentStatus.ACTIVE.value,
                "by": batch.confirmed_by_id,
                "resident": Scheme.RESIDENT_PENSION.value,
                "township": batch.township_id,
            },
        )
        inserted, opened = cursor.fetchone()
        return {"inserted": int(inserted), "accounts_opened": int(opened)}

    # --- Messages ---------------------------------------------------------------------------------

    def error_message(self, code: str, params: dict[str, Any]) -> str | None:
        answer = registry_message(code, params) or credit_code_message(code, params)
        if answer is not None:
            return answer
        scheme = scheme_label(params.get("scheme"))
        if code == "person_deceased":
            return gettext("This person died on %(date)s and cannot be enrolled.") % {
                "date": params.get("date", "")
            }
        if code == "starts_before_birth":
            return gettext("The enrollment date is before the birth date %(date)s.") % {
                "date": params.get("date", "")
            }
        if code == "resident_pension_min_age":
            return gettext(
                "The resident pension starts at age %(age)s; "
                "this person is %(actual)s on the enrollment date."
            ) % {"age": params.get("age", "?"), "actual": params.get("actual", "?")}
        if code == "resident_scheme_without_employer":
            return gettext(
                "Residents enrol in %(scheme)s for themselves: leave the employer's credit code empty."
            ) % {"scheme": scheme}
        if code == "organization_not_found":
            return gettext(
                "No employer with the credit code %(value)s is registered. Register the employer first."
            ) % {"value": params.get("value", "")}
        if code == "already_enrolled":
            return gettext(
                "This person is already enrolled in %(scheme)s since %(date)s (%(status)s). "
                "A different enrollment is not made by import."
            ) % {
                "scheme": scheme,
                "date": params.get("date", ""),
                "status": status_label(params.get("status")),
            }
        if code == "excluded_by_employment_pension":
            return gettext("This person is in the %(scheme)s, so cannot enrol in the resident pension.") % {
                "scheme": scheme
            }
        if code == "resident_pension_excluded_in_file":
            return gettext(
                "Rows %(rows)s of this file enrol the same person in the employee or the government and "
                "institution pension, so this row cannot enrol them in the resident pension."
            ) % {"rows": "、".join(str(row) for row in params.get("rows", []))}
        return None


def scheme_label(code: Any) -> str:
    return str(Scheme(code).label) if code in Scheme.values else str(code or "")


def status_label(code: Any) -> str:
    return str(EnrollmentStatus(code).label) if code in EnrollmentStatus.values else str(code or "")


def _full_years(births: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Full years on each day (as enrollment_enroll's _age_on: a 29 February birthday counts on 1 March)."""
    born, on = pd.DatetimeIndex(births), pd.DatetimeIndex(days)
    before_birthday = (on.month < born.month) | ((on.month == born.month) & (on.day < born.day))
    return (on.year - born.year - before_birthday.astype(int)).to_numpy(dtype=np.int64)


def open_enrollments(person_ids: np.ndarray, schemes: Any) -> pd.DataFrame:
    """The open enrollments of these persons in these schemes: id, person_id, scheme, status, start
    day (a day number), employer (float, NaN for none) and pooling area. One query, whatever the count."""
    from django.db import connection

    columns = ["id", "person_id", "scheme", "status", "start_date", "organization_id", "pooling_area"]
    if len(person_ids) == 0:
        return pd.DataFrame(columns=columns).astype(
            {"id": "int64", "person_id": "int64", "start_date": "int64", "organization_id": float}
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT e.id, e.person_id, e.scheme, e.status, e.start_date - date '1970-01-01',"
            " e.organization_id, e.pooling_area FROM enrollment_enrollment e"
            " JOIN unnest(string_to_array(%s, ',')::bigint[]) AS wanted(person_id)"
            " ON e.person_id = wanted.person_id"
            f" WHERE e.status NOT IN ({_sql_list(CLOSED_ENROLLMENT_STATUSES)}) AND e.scheme = ANY(%s)",
            [int_list(pd.unique(person_ids)), sorted({str(scheme) for scheme in schemes})],
        )
        found = pd.DataFrame(cursor.fetchall(), columns=columns)
    return found.astype(
        {"id": "int64", "person_id": "int64", "start_date": "int64", "organization_id": float}
    )
