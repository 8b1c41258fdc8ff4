"""Contribution batches (缴费批量): one row per person, scheme and paid period.

The rules are contribution_record's, applied to the whole file at once (DOMAIN §1.2, §2.2, §8.1):
- The person is registered in the batch's township and has a contributing (ACTIVE) enrollment
  in the scheme; a suspended or receiving one takes no contributions.
- Resident pension (the default scheme): a year at a grade. The grade is one of the grades in
  force on the payment day for the enrollment's pooling area; the person's part is the grade
  less the proxy payment (a personal amount in the file must say so); the proxy payment and
  the collective subsidy never exceed the grade. A year paid after it ended is back-paid
  (a back-pay flag in the file must agree) and gets no government subsidy; otherwise the
  subsidy for the grade comes from the parameters in force on the payment day, and the rows
  read are kept in `parameters_used` exactly as the service keeps them (E2, E5, E6).
- Employee schemes: a month (any day of it) on a base above 0, with a personal part at most
  the base; the back-pay flag is the file's (E8's employee months).
- A period already paid: the same grade (or base), amounts and payment day again is left as it
  is; another grade is refused (the grade lock, §1.2); other amounts are refused too.
- Inside the file, one row per person, scheme and period.
Beyond the service, a payment day after today is refused, as in the other kinds.

The commit inserts every record with one INSERT … SELECT and credits the personal accounts
of the pension schemes in the same statement (INSERT … ON CONFLICT DO UPDATE adding each
component), so records and balances equal what contribution_record writes row by row.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from enrollment.choices import EnrollmentStatus, Payer, PeriodKind, Scheme
from enrollment.import_kinds.cells import amounts, periods, yuan, yuan_column
from enrollment.import_kinds.common import (
    ID_NUMBER_HEADERS,
    NAME_HEADERS,
    RowErrors,
    check_id_numbers,
    check_past_dates,
    choice_keys,
    choice_lookup,
    copy_to_stage,
    credit_accounts_sql,
    drop_rows_repeated_in_file,
    fire_row_triggers_cheaply,
    fold_text,
    parameters_by_stretch,
    registry_message,
    registry_persons,
    scheme_codes,
    unregistered,
    widen,
)
from enrollment.import_kinds.enrollments import open_enrollments, scheme_label, status_label
from enrollment.services import RESIDENT_PENSION_SUBSIDY_KEYS, resident_pension_subsidy_by_grade
from socialsec.imports.kinds import ValidationContext
from socialsec.lib.spreadsheets import Table

_STAGE = "imports_stage_contributions"
_STAGE_PARAMETERS = "imports_stage_contribution_parameters"
_SOURCE_MAX = 100  # ContributionRecord.proxy_payment_source max_length
_AMOUNT_COLUMNS = ("grade", "base", "personal_amount", "collective_amount", "proxy_payment_amount")
# Who paid, as the files write it (data); the code identifiers and labels are accepted as well.
PAYER_ALIASES: dict[str, tuple[str, ...]] = {
    "person": ("个人", "本人", "个人缴费", "参保人"),
    "employer": ("单位", "用人单位", "单位缴费", "企业"),
    "government": ("政府", "政府代缴", "代缴", "财政代缴"),
}
_YES = {"是", "y", "yes", "true", "1", "补缴", "√"}
_NO = {"否", "n", "no", "false", "0", "正常", "正常缴费", "当年缴费"}


class Contributions:
    name = "contributions"
    label = _("Contribution batches")
    columns = {
        "id_number": [*ID_NUMBER_HEADERS],
        "name": [*NAME_HEADERS],
        "scheme": ["险种", "参保险种", "险种名称", "Scheme"],
        "period": ["缴费年度", "费款所属期", "所属期", "缴费所属期", "缴费期间", "Period", "Year"],
        "grade": ["缴费档次", "档次", "Grade"],
        "base": ["缴费基数", "Base"],
        "personal_amount": ["个人缴费金额", "个人缴费", "个人缴费额", "Personal contribution"],
        "collective_amount": ["集体补助", "集体补助金额", "Collective subsidy"],
        "proxy_payment_amount": ["代缴金额", "政府代缴金额", "Proxy payment"],
        "proxy_payment_source": ["代缴资金来源", "Proxy payment source"],
        "payer": ["缴费主体", "缴费方", "Payer"],
        "paid_on": ["缴费日期", "到账日期", "Paid on"],
        "is_backpay": ["是否补缴", "补缴标志", "Back-paid"],
    }
    required = ["id_number", "period", "paid_on"]
    template_rows = [
        [
            "360121198005120139",
            "张三",
            "城乡居民基本养老保险",
            "2024",
            "500",
            "",
            "500",
            "",
            "",
            "",
            "个人",
            "2024-03-15",
            "否",
        ],
        [
            "360121198005120139",
            "张三",
            "城乡居民基本养老保险",
            "2022",
            "300",
            "",
            "300",
            "",
            "",
            "",
            "个人",
            "2024-03-15",
            "是",
        ],
        [
            "360121199209030244",
            "李四",
            "职工基本养老保险",
            "2024-03",
            "",
            "4000",
            "320",
            "",
            "",
            "",
            "单位",
            "2024-03-20",
            "",
        ],
    ]
    touches = ["enrollment.ContributionRecord", "enrollment.PersonalAccount"]

    # --- Validation -------------------------------------------------------------------------------

    def validate(self, table: Table, ctx: ValidationContext) -> tuple[pd.DataFrame, pd.DataFrame]:
        frame = table.frame.copy()
        for name in self.columns:  # an optional column the file lacks reads as empty cells
            if name not in frame:
                frame[name] = ""
        rows = pd.Series(table.rows, index=frame.index, dtype="int64")
        numeric = table.numeric
        errors = RowErrors(self.columns, rows, frame)
        add = errors.add

        # The ID number.
        numbers, ok = check_id_numbers(frame["id_number"], numeric.get("id_number"), ctx.today, errors)

        # The scheme: the resident pension unless the row says otherwise.
        raw_scheme = frame["scheme"]
        scheme = scheme_codes(raw_scheme)
        unknown = scheme.isna().to_numpy() & (raw_scheme != "").to_numpy()
        add(unknown, "scheme", "unknown_scheme", [{"value": v} for v in raw_scheme[unknown]])
        ok &= ~unknown
        scheme = scheme.where(raw_scheme != "", Scheme.RESIDENT_PENSION.value).fillna("")
        # The rules of each kind of record apply to rows whose scheme is known.
        resident = (scheme == Scheme.RESIDENT_PENSION).to_numpy()
        employee = ~resident & ~unknown

        # The period: a year (2024) for the resident pension, a month (2024-03, 202403) otherwise.
        year, month, period_code = periods(frame["period"], numeric.get("period"))
        for code in ("required", "bad_period"):
            mask = period_code == code
            add(mask, "period", code)
            ok &= ~mask
        month_missing = employee & (period_code == "") & (month == 0)
        add(month_missing, "period", "month_required")
        ok &= ~month_missing
        period_start = pd.to_datetime(
            pd.DataFrame(
                {
                    "year": np.where(ok, year, 2000),
                    "month": np.where(resident, 1, np.maximum(month, 1)),
                    "day": 1,
                }
            )
        )

        # The payment day: present, a date, not after today.
        paid_on, paid_ok = check_past_dates(
            "paid_on", frame["paid_on"], numeric.get("paid_on"), ctx.today, errors
        )
        ok &= paid_ok

        # Amounts in yuan with at most two decimals (cents from here on), never negative.
        cents: dict[str, np.ndarray] = {}
        given: dict[str, np.ndarray] = {}
        for name in _AMOUNT_COLUMNS:
            cents[name], code = amounts(frame[name], numeric.get(name))
            given[name] = (frame[name] != "").to_numpy()
            for bad in ("bad_amount", "negative_amount"):
                mask = code == bad
                add(mask, name, bad)
                ok &= ~mask

        source = frame["proxy_payment_source"]
        too_long = (source.str.len() > _SOURCE_MAX).to_numpy()
        add(too_long, "proxy_payment_source", "too_long", {"max": _SOURCE_MAX})
        ok &= ~too_long

        payer_lookup = choice_lookup(Payer, PAYER_ALIASES)
        payer = _per_value(frame["payer"], lambda v: payer_lookup.get(_choice_key(v)))
        unknown_payer = payer.isna().to_numpy() & (frame["payer"] != "").to_numpy()
        add(unknown_payer, "payer", "unknown_payer", [{"value": v} for v in frame["payer"][unknown_payer]])
        ok &= ~unknown_payer
        payer = payer.where(frame["payer"] != "", Payer.PERSON.value).fillna("")

        flag_key = _per_value(frame["is_backpay"], _choice_key)
        flag_yes, flag_no = flag_key.isin(_YES).to_numpy(), flag_key.isin(_NO).to_numpy()
        flag_given = (frame["is_backpay"] != "").to_numpy()
        bad_flag = flag_given & ~flag_yes & ~flag_no
        add(bad_flag, "is_backpay", "bad_flag")
        ok &= ~bad_flag

        # The rules of each kind of record (contribution_record's _resident_year / _employee_month).
        collective = np.where(given["collective_amount"], cents["collective_amount"], 0)
        proxy = np.where(given["proxy_payment_amount"], cents["proxy_payment_amount"], 0)
        grade, base = cents["grade"], cents["base"]
        personal = cents["personal_amount"].copy()
        rules: list[tuple[np.ndarray, str, str, Any]] = []
        no_grade = resident & ~given["grade"]
        rules.append((no_grade, "grade", "required", None))
        rules.append((resident & given["base"], "base", "base_for_resident", None))
        has_grade = resident & given["grade"]
        rules.append((has_grade & (proxy > grade), "proxy_payment_amount", "subsidy_over_grade", None))
        rules.append((has_grade & (collective > grade), "collective_amount", "subsidy_over_grade", None))
        expected = grade - proxy
        mismatch = has_grade & given["personal_amount"] & (proxy <= grade) & (personal != expected)
        rules.append(
            (
                mismatch,
                "personal_amount",
                "personal_amount_mismatch",
                [{"expected": yuan(c)} for c in expected[mismatch]],
            )
        )
        personal = np.where(resident, expected, personal)
        # DOMAIN §1.2 "Late back-payment": a year paid after it ended is back-paid (the service's rule).
        derived = paid_on.dt.year.fillna(0).to_numpy(dtype=np.int64) > year
        backpay_mismatch = resident & flag_given & ~bad_flag & (flag_yes != derived)
        rules.append(
            (
                backpay_mismatch,
                "is_backpay",
                "backpay_mismatch",
                [{"derived": bool(d)} for d in derived[backpay_mismatch]],
            )
        )
        is_backpay = np.where(resident, derived, flag_yes)
        rules.append((employee & ~given["base"], "base", "required", None))
        rules.append((employee & given["base"] & (base <= 0), "base", "base_not_positive", None))
        rules.append((employee & ~given["personal_amount"], "personal_amount", "required", None))
        over = employee & given["base"] & given["personal_amount"] & (base > 0) & (personal > base)
        rules.append((over, "personal_amount", "personal_over_base", None))
        rules.append((employee & given["grade"], "grade", "grade_for_employee", None))
        for mask, column, code, params in rules:
            add(mask, column, code, params)
            ok &= ~mask

        # Inside the file: one row per person, scheme and period; an exact repeat names the first row.
        period_day = period_start.to_numpy().astype("datetime64[D]").astype("int64")
        paid_day = np.where(paid_on.notna(), paid_on.to_numpy().astype("datetime64[D]").astype("int64"), 0)
        key = numbers + "|" + scheme + "|" + pd.Series(period_day, index=frame.index).astype(str)
        value = pd.util.hash_pandas_object(
            pd.DataFrame(
                {
                    "grade": grade,
                    "base": base,
                    "personal": personal,
                    "collective": collective,
                    "proxy": proxy,
                    "paid": paid_day,
                    "backpay": is_backpay,
                    "payer": payer.to_numpy(dtype=object),
                    "source": source.to_numpy(dtype=object),
                },
                index=frame.index,
            ),
            index=False,
        )
        ok = drop_rows_repeated_in_file(key, value, rows, ok, errors)

        ctx.on_step("registry", 50)
        record = {
            "scheme": scheme.to_numpy(dtype=object),
            "resident": resident,
            "period_day": period_day,
            "paid_on": paid_on,
            "paid_day": paid_day,
            "grade": grade,
            "base": base,
            "personal": personal,
            "collective": collective,
            "proxy": proxy,
            "is_backpay": is_backpay,
        }
        found = self._check_registry(ctx, frame, numbers, record, ok, errors)
        ok &= ~found["failed"]

        clean = pd.DataFrame(
            {
                "row": rows[ok].to_numpy(),
                "enrollment_id": found["enrollment_id"][ok],
                "period_kind": np.where(resident[ok], PeriodKind.YEAR.value, PeriodKind.MONTH.value),
                "period_start": period_start[ok].to_numpy().astype("datetime64[D]"),
                "grade": yuan_column(np.where(resident, grade, -1)[ok]),
                "base": yuan_column(np.where(resident, -1, base)[ok]),
                "personal_amount": yuan_column(personal[ok]),
                "collective_amount": yuan_column(collective[ok]),
                "government_subsidy": yuan_column(found["subsidy"][ok]),
                "proxy_payment_amount": yuan_column(proxy[ok]),
                "proxy_payment_source": source[ok].to_numpy(dtype=object),
                "is_backpay": is_backpay[ok],
                "payer": payer[ok].to_numpy(dtype=object),
                "paid_on": paid_on[ok].to_numpy().astype("datetime64[D]"),
                "parameters_id": pd.array(
                    np.where(found["parameters_id"][ok] >= 0, found["parameters_id"][ok], None), dtype="Int64"
                ),
                # The parameter rows, as parameter_trace().as_snapshot() gives them (one shared text
                # per stretch of parameters, not one per row).
                "parameters_used": np.array(
                    [found["snapshots"][i] if i >= 0 else "" for i in found["parameters_id"][ok]],
                    dtype=object,
                ),
                "unchanged": found["unchanged"][ok],
            }
        )
        return errors.frame(), clean

    def _check_registry(
        self,
        ctx: ValidationContext,
        frame: pd.DataFrame,
        numbers: pd.Series,
        record: dict[str, Any],
        ok: np.ndarray,
        errors: RowErrors,
    ) -> dict[str, Any]:
        """The person, the enrollment, the parameters in force and the periods already paid."""
        count = len(frame)
        result: dict[str, Any] = {
            "failed": np.zeros(count, dtype=bool),
            "unchanged": np.zeros(count, dtype=bool),
            "enrollment_id": np.zeros(count, dtype=np.int64),
            "subsidy": np.zeros(count, dtype=np.int64),
            "parameters_id": np.full(count, -1, dtype=np.int64),
            "snapshots": [],
        }
        registry = registry_persons(numbers[ok].unique().tolist(), ctx.township_id)
        missing = unregistered(numbers, ok, registry, ctx, errors)
        result["failed"] |= missing
        ok = ok & ~missing
        if not ok.any():
            return result
        facts = registry.loc[numbers[ok]]
        failed = np.zeros(int(ok.sum()), dtype=bool)

        def refuse(mask: np.ndarray, column: str, code: str, params: Any = None) -> None:
            nonlocal failed
            errors.add(widen(mask, ok), column, code, params)
            failed |= mask

        given_name = np.array(["".join(n.split()) for n in frame["name"][ok]], dtype=object)
        registered = facts["name"].to_numpy(dtype=object)
        wrong = (given_name != "") & (given_name != registered)
        refuse(wrong, "name", "name_mismatch", [{"registered": n} for n in registered[wrong]])

        # The person's open enrollment in the scheme; only a contributing one takes contributions.
        schemes = record["scheme"][ok]
        person_ids = facts["id"].to_numpy(dtype=np.int64)
        held = open_enrollments(person_ids, set(schemes))
        mine = pd.DataFrame({"position": np.arange(len(schemes)), "person_id": person_ids, "scheme": schemes})
        joined = mine.merge(held, on=["person_id", "scheme"], how="left").sort_values("position")
        has = joined["id"].notna().to_numpy()
        status = joined["status"].to_numpy(dtype=object)
        refuse(~has, "scheme", "not_enrolled", [{"scheme": s} for s in schemes[~has]])
        resting = has & (status != EnrollmentStatus.ACTIVE)
        refuse(
            resting,
            "scheme",
            "enrollment_not_contributing",
            [
                {"scheme": s, "status": st, "enrollment_id": int(e)}
                for s, st, e in zip(
                    schemes[resting], status[resting], joined["id"].to_numpy()[resting], strict=True
                )
            ],
        )
        enrollment_id = np.where(has, joined["id"].fillna(0).to_numpy(), 0).astype(np.int64)
        result["enrollment_id"][ok] = enrollment_id
        usable = has & ~resting

        # DOMAIN §1.2: the grades and subsidy in force on the payment day, for the pooling area.
        resident = record["resident"][ok] & usable
        grade = record["grade"][ok]
        subsidy = np.zeros(len(schemes), dtype=np.int64)
        parameters_id = np.full(len(schemes), -1, dtype=np.int64)
        if resident.any():
            paid_on = record["paid_on"][ok].reset_index(drop=True)
            regions = pd.Series(np.where(resident, joined["pooling_area"].to_numpy(dtype=object), None))
            stretch, sets = parameters_by_stretch(
                list(RESIDENT_PENSION_SUBSIDY_KEYS), regions, paid_on.where(pd.Series(resident))
            )
            answered = np.array([s.values is not None for s in sets] + [False])
            no_parameter = resident & ~answered[stretch]
            refuse(
                no_parameter,
                "paid_on",
                "missing_parameter",
                [
                    {**sets[stretch[i]].missing, "date": f"{paid_on[i]:%Y-%m-%d}"}
                    for i in np.flatnonzero(no_parameter)
                ],
            )
            by_grade = [
                {int(g * 100): int(s * 100) for g, s in resident_pension_subsidy_by_grade(p.values).items()}
                if p.values
                else {}
                for p in sets
            ]
            table = pd.DataFrame(
                [(i, g, s) for i, grades in enumerate(by_grade) for g, s in grades.items()],
                columns=["stretch", "grade", "subsidy"],
            ).astype({"stretch": "int64", "grade": "int64", "subsidy": "float64"})
            lookup = pd.DataFrame({"stretch": stretch, "grade": grade}).merge(
                table, how="left", on=["stretch", "grade"]
            )
            in_force = lookup["subsidy"].notna().to_numpy()
            off_grade = resident & ~no_parameter & ~in_force
            refuse(
                off_grade,
                "grade",
                "grade_not_in_force",
                [
                    {"grades": [yuan(g) for g in by_grade[stretch[i]]], "date": f"{paid_on[i]:%Y-%m-%d}"}
                    for i in np.flatnonzero(off_grade)
                ],
            )
            # No subsidy for a back-paid year (§1.2, E6); the rows read are kept all the same.
            subsidy = np.where(
                resident & in_force & ~record["is_backpay"][ok], lookup["subsidy"].fillna(0).to_numpy(), 0
            ).astype(np.int64)
            parameters_id = np.where(resident & ~no_parameter, stretch, -1)
            result["snapshots"] = [json.dumps(p.snapshot, ensure_ascii=False) for p in sets]
        result["subsidy"][ok] = subsidy
        result["parameters_id"][ok] = parameters_id

        # A period already paid: the same record again is unchanged; another grade is the lock.
        paid = _recorded(enrollment_id[usable], np.unique(record["period_day"][ok][usable]))
        if not paid.empty:
            here = pd.DataFrame(
                {
                    "position": np.arange(len(schemes)),
                    "enrollment_id": enrollment_id,
                    "period_day": record["period_day"][ok],
                }
            )[usable]
            same = here.merge(paid, on=["enrollment_id", "period_day"])
            if not same.empty:
                at = same["position"].to_numpy()
                mine_values = {
                    "grade": np.where(record["resident"][ok], grade, -1)[at],
                    "base": np.where(record["resident"][ok], -1, record["base"][ok])[at],
                }
                locked = (same["grade"].to_numpy() != mine_values["grade"]) | (
                    same["base"].to_numpy() != mine_values["base"]
                )
                differs = ~locked & (
                    (same["personal"].to_numpy() != record["personal"][ok][at])
                    | (same["collective"].to_numpy() != record["collective"][ok][at])
                    | (same["proxy"].to_numpy() != record["proxy"][ok][at])
                    | (same["paid_day"].to_numpy() != record["paid_day"][ok][at])
                    | (same["is_backpay"].to_numpy(dtype=bool) != record["is_backpay"][ok][at])
                )
                # The period as the clerk writes it, for the rows refused only.
                period_texts = {
                    i: _period_text(same["period_kind"].iat[i], same["period_day"].iat[i])
                    for i in np.flatnonzero(locked | differs)
                }
                yearly = (same["period_kind"] == PeriodKind.YEAR).to_numpy()
                for where, column in ((locked & yearly, "grade"), (locked & ~yearly, "base")):
                    lock_mask = np.zeros(len(schemes), dtype=bool)
                    lock_mask[at[where]] = True
                    refuse(
                        lock_mask,
                        column,
                        "grade_locked",
                        [
                            {
                                "period": period_texts[i],
                                "amount": yuan(same[column].iat[i]),
                                "record_id": int(same["id"].iat[i]),
                            }
                            for i in np.flatnonzero(where)
                        ],
                    )
                other_mask = np.zeros(len(schemes), dtype=bool)
                other_mask[at[differs]] = True
                refuse(
                    other_mask,
                    "personal_amount",
                    "period_paid_differently",
                    [
                        {"period": period_texts[i], "record_id": int(same["id"].iat[i])}
                        for i in np.flatnonzero(differs)
                    ],
                )
                unchanged = np.zeros(len(schemes), dtype=bool)
                unchanged[at[~locked & ~differs]] = True
                result["unchanged"][ok] = unchanged
        result["failed"][ok] |= failed
        result["unchanged"] &= ~result["failed"]
        return result

    # --- Commit -----------------------------------------------------------------------------------

    def stage(self, clean: pd.DataFrame, batch: Any, cursor: Any) -> int:
        # One batch per transaction: ON COMMIT DROP leaves nothing behind, even after a rollback.
        # A caller running two batches inside one outer transaction (a test) finds the first's.
        cursor.execute(f"DROP TABLE IF EXISTS {_STAGE}, {_STAGE_PARAMETERS}")
        cursor.execute(
            f"CREATE TEMP TABLE {_STAGE} (row integer NOT NULL, enrollment_id bigint NOT NULL,"
            " period_kind varchar(5) NOT NULL, period_start date NOT NULL, grade numeric(12, 2),"
            " base numeric(12, 2), personal_amount numeric(12, 2) NOT NULL,"
            " collective_amount numeric(12, 2) NOT NULL, government_subsidy numeric(12, 2) NOT NULL,"
            " proxy_payment_amount numeric(12, 2) NOT NULL,"
            f" proxy_payment_source varchar({_SOURCE_MAX}) NOT NULL,"
            " is_backpay boolean NOT NULL, payer varchar(10) NOT NULL, paid_on date NOT NULL,"
            " parameters_id integer, PRIMARY KEY (enrollment_id, period_start)) ON COMMIT DROP"
        )
        cursor.execute(
            f"CREATE TEMP TABLE {_STAGE_PARAMETERS} (id integer PRIMARY KEY, snapshot jsonb NOT NULL)"
            " ON COMMIT DROP"
        )
        changing = clean[~clean["unchanged"].astype(bool)]
        columns = [
            "row",
            "enrollment_id",
            "period_kind",
            "period_start",
            "grade",
            "base",
            "personal_amount",
            "collective_amount",
            "government_subsidy",
            "proxy_payment_amount",
            "proxy_payment_source",
            "is_backpay",
            "payer",
            "paid_on",
            "parameters_id",
        ]
        copy_to_stage(cursor, _STAGE, changing, columns, options=", FORCE_NOT_NULL (proxy_payment_source)")
        # One snapshot per stretch of parameters (a handful), not one per row.
        used = changing.dropna(subset=["parameters_id"]).drop_duplicates("parameters_id")
        if not used.empty:
            # One statement (pghistory's context injection does not go with executemany).
            cursor.execute(
                f"INSERT INTO {_STAGE_PARAMETERS} (id, snapshot) VALUES "
                + ", ".join(["(%s, %s::jsonb)"] * len(used)),
                [
                    value
                    for pair in zip(used["parameters_id"], used["parameters_used"], strict=True)
                    for value in (int(pair[0]), pair[1])
                ],
            )
        return len(changing)

    def merge(self, batch: Any, cursor: Any) -> dict[str, int]:
        # The WHERE repeats the checks that can change meanwhile (the enrollment still contributing,
        # the period still unpaid, the person still in the township), so the framework's count
        # comparison rolls everything back rather than import part. The unique index on
        # (enrollment, period) and the accounts' ON CONFLICT make a concurrent writer safe.
        township_rule = "AND p.township_id = %(township)s" if batch.township_id else ""
        # Every audit trigger still fires. Without this, each one's pgtrigger.ignore lookup aborts a
        # subtransaction per row, and each abort walks the deferred foreign-key checks queued so far:
        # quadratic (20,000 enrollments: 5.8 s in the trigger, 0.7 s with it).
        fire_row_triggers_cheaply(cursor)
        cursor.execute(
            f"""
            WITH inserted AS (
                INSERT INTO enrollment_contributionrecord (
                    enrollment_id, period_kind, period_start, grade, base, personal_amount,
                    collective_amount, government_subsidy, proxy_payment_amount, proxy_payment_source,
                    is_backpay, payer, paid_on, parameters_used, recorded_by_id, created_at, updated_at
                )
                SELECT s.enrollment_id, s.period_kind, s.period_start, s.grade, s.base, s.personal_amount,
                       s.collective_amount, s.government_subsidy, s.proxy_payment_amount,
                       s.proxy_payment_source, s.is_backpay, s.payer, s.paid_on,
                       coalesce(t.snapshot, '[]'::jsonb), %(by)s, now(), now()
                  FROM {_STAGE} s
                  JOIN enrollment_enrollment e ON e.id = s.enrollment_id AND e.status = %(active)s
                  JOIN enrollment_person p ON p.id = e.person_id {township_rule}
                  LEFT JOIN {_STAGE_PARAMETERS} t ON t.id = s.parameters_id
                 WHERE NOT EXISTS (
                       SELECT 1 FROM enrollment_contributionrecord c
                        WHERE c.enrollment_id = s.enrollment_id AND c.period_start = s.period_start)
                 ORDER BY s.row
                RETURNING enrollment_id, personal_amount, collective_amount, government_subsidy,
                          proxy_payment_amount
            ), credited AS ({credit_accounts_sql("inserted")})
            SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM credited)
            """,
            {
                "by": batch.confirmed_by_id,
                "active": EnrollmentStatus.ACTIVE.value,
                "township": batch.township_id,
            },
        )
        inserted, credited = cursor.fetchone()
        return {"inserted": int(inserted), "accounts_credited": int(credited)}

    # --- Messages ---------------------------------------------------------------------------------

    def error_message(self, code: str, params: dict[str, Any]) -> str | None:
        answer = registry_message(code, params)
        if answer is not None:
            return answer
        scheme = scheme_label(params.get("scheme"))
        messages = {
            "bad_period": lambda: gettext(
                "This is not a period. Write a year as 2024, or a month as 2024-03 or 202403."
            ),
            "month_required": lambda: gettext(
                "Employee schemes are paid by month: write the month, as 2024-03 or 202403."
            ),
            "bad_amount": lambda: gettext(
                "This is not an amount in yuan with at most two decimals, such as 300 or 320.50."
            ),
            "negative_amount": lambda: gettext("An amount cannot be negative."),
            "unknown_payer": lambda: (
                gettext(
                    "%(value)s is not a payer. Write 个人, 单位 or 政府 (person, employer or government)."
                )
                % {"value": params.get("value", "")}
            ),
            "bad_flag": lambda: gettext("Write 是 (yes) or 否 (no)."),
            "base_for_resident": lambda: gettext(
                "The resident pension is paid by grade, not on a base: leave the base empty."
            ),
            "grade_for_employee": lambda: gettext(
                "Employee schemes are paid on a base, not by grade: leave the grade empty."
            ),
            "base_not_positive": lambda: gettext("The contribution base must be more than 0."),
            "subsidy_over_grade": lambda: gettext("A subsidy cannot exceed the grade."),
            "personal_amount_mismatch": lambda: (
                gettext("The person's part is the grade less the proxy payment: %(expected)s.")
                % {"expected": params.get("expected", "")}
            ),
            "personal_over_base": lambda: gettext("The personal contribution cannot be more than the base."),
            "backpay_mismatch": lambda: (
                gettext("The payment day is after the year ended, so the year is back-paid: write 是.")
                if params.get("derived")
                else gettext("The year is paid before it ended, so it is not back-paid: write 否.")
            ),
            "not_enrolled": lambda: (
                gettext("This person is not enrolled in %(scheme)s.") % {"scheme": scheme}
            ),
            "enrollment_not_contributing": lambda: (
                gettext(
                    "This person's enrollment in %(scheme)s is %(status)s; only a contributing enrollment "
                    "takes contributions."
                )
                % {"scheme": scheme, "status": status_label(params.get("status"))}
            ),
            "grade_not_in_force": lambda: (
                gettext("This is not a contribution grade in force on %(date)s; the grades are %(grades)s.")
                % {"date": params.get("date", ""), "grades": ", ".join(params.get("grades", []))}
            ),
            "grade_locked": lambda: (
                gettext("%(period)s is already paid at %(amount)s (record %(id)s); its grade is locked.")
                % {
                    "period": params.get("period", ""),
                    "amount": params.get("amount", ""),
                    "id": params.get("record_id", ""),
                }
            ),
            "period_paid_differently": lambda: (
                gettext(
                    "%(period)s is already paid with other amounts or another payment day (record %(id)s); "
                    "a correction is not made by import."
                )
                % {"period": params.get("period", ""), "id": params.get("record_id", "")}
            ),
        }
        message = messages.get(code)
        return message() if message is not None else None


# --- Reading cells ------------------------------------------------------------------------------------


def _choice_key(value: str) -> str:
    return choice_keys(pd.Series([fold_text(value)])).iloc[0]


def _per_value(values: pd.Series, read: Any) -> pd.Series:
    """read(value) for every cell, computed once per distinct value (a column repeats a few)."""
    answers = {value: read(value) for value in pd.unique(values)}
    return values.map(answers)


def _period_text(kind: str, day: int) -> str:
    start = np.datetime64(int(day), "D").astype(object)
    return f"{start:%Y}" if kind == PeriodKind.YEAR else f"{start:%Y-%m}"


def _recorded(enrollment_ids: np.ndarray, period_days: np.ndarray) -> pd.DataFrame:
    """The records already on these enrollments for these periods, amounts in cents (-1: empty)."""
    from django.db import connection

    from enrollment.import_kinds.common import int_list

    columns = [
        "id",
        "enrollment_id",
        "period_kind",
        "period_day",
        "grade",
        "base",
        "personal",
        "collective",
        "proxy",
        "paid_day",
        "is_backpay",
    ]
    if len(enrollment_ids) == 0:
        return pd.DataFrame(columns=columns)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id, c.enrollment_id, c.period_kind, c.period_start - date '1970-01-01',"
            " coalesce((c.grade * 100)::bigint, -1), coalesce((c.base * 100)::bigint, -1),"
            " (c.personal_amount * 100)::bigint, (c.collective_amount * 100)::bigint,"
            " (c.proxy_payment_amount * 100)::bigint, c.paid_on - date '1970-01-01', c.is_backpay"
            " FROM enrollment_contributionrecord c"
            " JOIN unnest(string_to_array(%s, ',')::bigint[]) AS wanted(id) ON c.enrollment_id = wanted.id"
            " WHERE c.period_start = ANY(%s::date[])",
            [
                int_list(pd.unique(enrollment_ids)),
                [np.datetime64(int(d), "D").astype(object) for d in period_days],
            ],
        )
        found = pd.DataFrame(cursor.fetchall(), columns=columns)
    for column in columns:
        if column not in ("period_kind", "is_backpay"):
            found[column] = found[column].astype(np.int64)
    return found
