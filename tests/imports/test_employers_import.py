"""Importing employer lists (用人单位名单, DOMAIN §6.2, §8.1 Organization): credit codes through the
§6.2 wrapper (E20: letter-prefixed codes accepted), size classes (划型) in Chinese or as codes,
townships by code or name; new codes are added in one INSERT … SELECT, a registered code with the
same data is unchanged, and one with different data is a bad row (an import never overwrites)."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrollment.choices import SizeClass
from enrollment.import_kinds.employers import Employers
from enrollment.models import Organization
from socialsec.core.exceptions import InvalidState
from socialsec.imports import services
from socialsec.imports.choices import ImportStatus
from socialsec.imports.messages import error_message
from socialsec.imports.models import ImportBatch
from tests.enrollment.factories import OrganizationFactory, build_credit_code
from tests.imports.files import EMPLOYERS_HEADER as HEADER
from tests.imports.helpers import check, confirm_and_commit, errors_of, import_file, post_upload, upload

pytestmark = pytest.mark.django_db

KIND = "employers"
# E20: a village collective (N2…) that python-stdnum refuses and the §6.2 wrapper accepts.
VILLAGE_COLLECTIVE = "N2371083MF00000018"
FARMERS_COOPERATIVE = "93371083MA00000018"


def _code(n: int, prefix: str = "91") -> str:
    # "MB…", not the factory's "MA…": the file's codes are new unless a test registers them.
    return build_credit_code(prefix, f"MB{n:07d}")


def _upload(user, path, township):
    return upload(user, path, township, kind=KIND)


def _row(code, name="南昌某某有限公司", size="小型", industry="制造业", township="莲塘镇"):
    return [code, name, size, industry, township]


def _rows(count: int, township="莲塘镇"):
    return [_row(_code(n), name=f"第{n}有限公司", township=township) for n in range(count)]


def _organizations():
    return sorted(
        Organization.objects.values_list(
            "credit_code",
            "registration_authority",
            "entity_type",
            "name",
            "size_class",
            "industry",
            "township_id",
        )
    )


# --- Clean files ----------------------------------------------------------------------------------


def test_a_clean_xlsx_adds_every_organization_once_the_clerk_confirms(cast, files):
    """E20: N- and farmers' co-operative codes are accepted; township by code, name or the batch's."""
    a = cast.township_a.pk
    rows = [
        _row(_code(1), "南昌一号有限公司", "小型", "制造业", "360121100000"),
        _row(VILLAGE_COLLECTIVE, "东山村股份经济合作社", "micro", "农业", "莲塘镇"),
        _row(FARMERS_COOPERATIVE, "东山农民专业合作社", "微型企业", "", ""),
        _row(_code(2).lower(), "南昌二号有限公司", "Large", "建筑业", "莲塘镇"),
    ]
    batch = check(_upload(cast.maker_ann, files.xlsx(rows, header=HEADER), cast.township_a))
    assert batch.status == ImportStatus.VALIDATED, errors_of(batch)
    assert not Organization.objects.exists()  # nothing is written before the clerk confirms

    batch = confirm_and_commit(batch, cast.maker_ann)

    assert batch.status == ImportStatus.COMMITTED
    assert batch.summary == {"rows": 4, "inserted": 4, "unchanged": 0}
    assert _organizations() == sorted(
        [
            (_code(1), "9", "1", "南昌一号有限公司", SizeClass.SMALL, "制造业", a),
            (VILLAGE_COLLECTIVE, "N", "2", "东山村股份经济合作社", SizeClass.MICRO, "农业", a),
            (FARMERS_COOPERATIVE, "9", "3", "东山农民专业合作社", SizeClass.MICRO, "", a),
            (_code(2), "9", "1", "南昌二号有限公司", SizeClass.LARGE, "建筑业", a),
        ]
    )
    # Without a year column, the size class is this year's classification.
    assert set(Organization.objects.values_list("size_class_year", flat=True)) == {timezone.localdate().year}
    event = Organization.objects.get(credit_code=VILLAGE_COLLECTIVE).events.get(pgh_label="insert")
    assert event.pgh_context.metadata["import_batch"] == batch.pk


def test_a_gbk_csv_with_full_width_characters_and_year_and_basis_columns_commits(cast, files):
    code = _code(7)
    full_width = code.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    header = [*HEADER, "划型年度", "划型依据"]
    path = files.csv(
        [
            [
                full_width,
                "南昌七号有限公司",
                "中型",
                "批发和零售业",
                "莲塘镇",
                "2019年",
                "工信部联企业〔2011〕300号",
            ]
        ],
        header=header,
    )

    batch = confirm_and_commit(check(_upload(cast.maker_ann, path, cast.township_a)), cast.maker_ann)

    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)
    organization = Organization.objects.get()
    assert (organization.credit_code, organization.size_class, organization.size_class_year) == (
        code,
        SizeClass.MEDIUM,
        2019,
    )
    assert organization.size_class_basis == "工信部联企业〔2011〕300号"


# --- Bad rows: REJECTED, nothing committed ------------------------------------------------------


def _bad_row_cases():
    return {
        "empty_code": (_row(""), "统一社会信用代码", "required", ""),
        # E20: a wrong check character is refused.
        "bad_checksum": (
            _row("91110000600037341M"),
            "统一社会信用代码",
            "credit_code_bad_checksum",
            "91110000600037341M",
        ),
        "bad_length": (
            _row("91360121MB000001"),
            "统一社会信用代码",
            "credit_code_bad_length",
            "91360121MB000001",
        ),
        "letter_o": (
            _row("91360121MO0000001X"),
            "统一社会信用代码",
            "credit_code_bad_characters",
            "91360121MO0000001X",
        ),
        "bad_authority": (
            _row("B1360121MB00000010"),
            "统一社会信用代码",
            "credit_code_bad_authority",
            "B1360121MB00000010",
        ),
        "code_stored_as_number": (
            _row(913601211234567890.0),
            "统一社会信用代码",
            "credit_code_stored_as_number",
            None,
        ),
        "empty_name": (_row(_code(99), name=""), "单位名称", "required", ""),
        "name_too_long": (_row(_code(99), name="长" * 201), "单位名称", "too_long", "长" * 201),
        "empty_size_class": (_row(_code(99), size=""), "企业划型", "required", ""),
        "unknown_size_class": (_row(_code(99), size="特大型"), "企业划型", "unknown_size_class", "特大型"),
        "unknown_township": (
            _row(_code(99), township="不存在镇"),
            "所属乡镇",
            "unknown_township",
            "不存在镇",
        ),
        "unknown_township_code": (
            _row(_code(99), township="360121999000"),
            "所属乡镇",
            "unknown_township",
            "360121999000",
        ),
        "another_township": (_row(_code(99), township="向塘镇"), "所属乡镇", "not_batch_township", "向塘镇"),
    }


@pytest.mark.parametrize("case", list(_bad_row_cases()))
def test_a_file_with_one_bad_row_is_rejected_naming_row_column_value_and_nothing_is_committed(
    case, cast, files
):
    bad, column, code, value = _bad_row_cases()[case]
    good = _rows(4)
    batch = check(
        _upload(cast.maker_ann, files.xlsx([*good[:2], bad, *good[2:]], header=HEADER), cast.township_a)
    )

    assert batch.status == ImportStatus.REJECTED
    assert (batch.rows_total, batch.rows_invalid, batch.rows_valid) == (5, 1, 4)
    ((row, col, shown, err),) = errors_of(batch)
    assert (row, col, err) == (5, column, code)  # title row, header row, two good rows, then this one
    if value is not None:
        assert shown == value
    else:  # a number cell, shown as the spreadsheet held it
        assert shown.startswith("91360121")
    with pytest.raises(InvalidState):
        services.import_confirm(batch_id=batch.pk, by=cast.maker_ann)
    assert not Organization.objects.exists()


def test_a_year_that_is_not_a_past_or_current_year_is_a_bad_row(cast, files):
    header = [*HEADER, "划型年度"]
    next_year = str(timezone.localdate().year + 1)
    rows = [
        [*_row(_code(1)), "1989"],
        [*_row(_code(2)), next_year],
        [*_row(_code(3)), "去年"],
        [*_row(_code(4)), ""],
    ]
    batch = check(_upload(cast.maker_ann, files.xlsx(rows, header=header), cast.township_a))
    assert [(row, col, value, code) for row, col, value, code in errors_of(batch)] == [
        (3, "划型年度", "1989", "bad_year"),
        (4, "划型年度", next_year, "bad_year"),
        (5, "划型年度", "去年", "bad_year"),
    ]


def test_an_exact_repeat_names_the_first_row_and_one_code_with_two_names_makes_both_rows_bad(cast, files):
    rows = [
        _row(_code(1)),  # row 3
        _row(_code(2), name="甲公司"),  # row 4
        _row(_code(1)),  # row 5: same as row 3
        _row(_code(2), name="乙公司"),  # row 6: the same code under another name
    ]
    batch = check(_upload(cast.maker_ann, files.xlsx(rows, header=HEADER), cast.township_a))
    assert {(e.row, e.column, e.code): e.params for e in batch.row_errors.all()} == {
        (5, "统一社会信用代码", "duplicate_row"): {"first_row": 3},
        (4, "统一社会信用代码", "conflicting_codes"): {"rows": [4, 6]},
        (6, "统一社会信用代码", "conflicting_codes"): {"rows": [4, 6]},
    }
    assert not Organization.objects.exists()


# --- Codes already registered -------------------------------------------------------------------


def test_a_registered_code_with_the_same_data_is_unchanged_and_new_codes_are_added(cast, files):
    registered = OrganizationFactory(
        credit_code=_code(0),
        name="第0有限公司",
        size_class=SizeClass.SMALL,
        industry="制造业",
        township=cast.township_a,
    )
    updated_at = registered.updated_at
    batch = confirm_and_commit(
        check(_upload(cast.maker_ann, files.xlsx(_rows(3), header=HEADER), cast.township_a)), cast.maker_ann
    )

    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)
    assert batch.summary == {"rows": 3, "inserted": 2, "unchanged": 1}
    assert Organization.objects.count() == 3
    assert Organization.objects.get(pk=registered.pk).updated_at == updated_at


def test_an_empty_optional_cell_is_not_compared_with_the_registration(cast, files):
    OrganizationFactory(credit_code=_code(0), name="第0有限公司", industry="制造业", township=cast.township_a)
    batch = check(
        _upload(
            cast.maker_ann,
            files.xlsx([_row(_code(0), name="第0有限公司", industry="")], header=HEADER),
            cast.township_a,
        )
    )
    assert batch.status == ImportStatus.VALIDATED, errors_of(batch)


@pytest.mark.usefixtures("english_messages")
def test_a_registered_code_with_different_data_is_a_bad_row_per_differing_column(cast, files):
    registered = OrganizationFactory(
        credit_code=_code(0),
        name="第0有限公司",
        size_class=SizeClass.SMALL,
        industry="制造业",
        township=cast.township_a,
    )
    rows = [_row(_code(0), name="第0有限公司（改名）", size="中型", industry="制造业")]
    batch = check(_upload(cast.maker_ann, files.xlsx(rows, header=HEADER), cast.township_a))

    assert batch.status == ImportStatus.REJECTED
    found = [(e.row, e.column, e.value, e.code, e.params) for e in batch.row_errors.order_by("id")]
    assert found == [
        (
            3,
            "单位名称",
            "第0有限公司(改名)",
            "organization_differs",
            {"id": registered.pk, "field": "name", "registered": "第0有限公司"},
        ),
        (
            3,
            "企业划型",
            "中型",
            "organization_differs",
            {"id": registered.pk, "field": "size_class", "registered": "small"},
        ),
    ]
    assert batch.rows_invalid == 1
    error = batch.row_errors.get(column="企业划型")
    assert error_message(Employers(), error.code, error.params, error.value) == (
        f"Organization {registered.pk} is registered under this credit code with Small in this column. "
        "An import adds new organizations and does not change registered ones."
    )
    assert Organization.objects.get().size_class == SizeClass.SMALL


def test_a_code_registered_in_another_township_is_a_bad_row_that_reveals_nothing_of_it(cast, files):
    OrganizationFactory(credit_code=_code(0), name="向塘公司", township=cast.township_b)
    batch = check(_upload(cast.maker_ann, files.xlsx(_rows(3), header=HEADER), cast.township_a))
    assert [(e.row, e.code, e.params) for e in batch.row_errors.all()] == [(3, "registered_elsewhere", {})]
    assert Organization.objects.count() == 1


def test_in_a_county_wide_list_a_registered_code_in_another_township_names_that_township(
    cast, county_clerk_kim, files
):
    registered = OrganizationFactory(credit_code=_code(0), name="第0有限公司", township=cast.township_b)
    batch = check(_upload(county_clerk_kim, files.xlsx(_rows(1), header=HEADER), None))
    assert [(e.column, e.code, e.params) for e in batch.row_errors.all()] == [
        (
            "所属乡镇",
            "organization_differs",
            {"id": registered.pk, "field": "township", "registered": "向塘镇"},
        )
    ]


def test_a_code_registered_differently_after_the_check_fails_the_commit_and_lists_the_row(cast, files):
    batch = check(_upload(cast.maker_ann, files.xlsx(_rows(3), header=HEADER), cast.township_a))
    # Another clerk registers one of the codes, as a medium enterprise, before the confirmation.
    OrganizationFactory(
        credit_code=_code(1), name="第1有限公司", size_class=SizeClass.MEDIUM, township=cast.township_a
    )

    batch = confirm_and_commit(batch, cast.maker_ann)

    assert batch.status == ImportStatus.FAILED
    assert batch.failure_code == "changed_since_check"
    assert [(row, code) for row, _c, _v, code in errors_of(batch)] == [(4, "organization_differs")]
    assert Organization.objects.count() == 1


# --- The same list again: no duplicates ---------------------------------------------------------


def test_re_uploading_the_committed_file_is_refused_and_the_same_list_as_csv_adds_nothing(cast, files):
    rows = _rows(4)
    path = files.xlsx(rows, header=HEADER)
    first = confirm_and_commit(check(_upload(cast.maker_ann, path, cast.township_a)), cast.maker_ann)
    with pytest.raises(InvalidState) as refused:
        _upload(cast.maker_ann, path, cast.township_a)
    assert refused.value.details["ids"] == [first.pk]

    again = confirm_and_commit(
        check(_upload(cast.maker_ann, files.csv(rows, header=HEADER), cast.township_a)), cast.maker_ann
    )

    assert again.status == ImportStatus.COMMITTED, errors_of(again)
    assert again.summary == {"rows": 4, "inserted": 0, "unchanged": 4}
    assert Organization.objects.count() == 4


def test_the_check_and_the_commit_cost_the_same_queries_for_2_or_20_rows(cast, files):
    """Set-based: one lookup of townships, one of registered codes, one COPY, one INSERT … SELECT."""
    rows = _rows(22)

    def queries(chosen) -> tuple[int, int]:
        batch = _upload(cast.maker_ann, files.xlsx(chosen, header=HEADER), cast.township_a)
        with CaptureQueriesContext(connection) as checking:
            services.import_validate(batch_id=batch.pk)
        services.import_confirm(batch_id=batch.pk, by=cast.maker_ann, schedule=False)
        with CaptureQueriesContext(connection) as committing:
            services.import_commit(batch_id=batch.pk)
        assert ImportBatch.objects.get(pk=batch.pk).status == ImportStatus.COMMITTED
        return len(checking), len(committing)

    assert queries(rows[:2]) == queries(rows[2:])


# --- Who may import what -------------------------------------------------------------------------


def test_a_county_wide_list_names_each_township_and_reaches_every_one(cast, county_clerk_kim, files):
    rows = [
        _row(_code(1), township="莲塘镇"),
        _row(_code(2), township="360121101000"),
        _row(_code(3), township=""),
    ]
    batch = check(_upload(county_clerk_kim, files.xlsx(rows, header=HEADER), None))
    assert [(row, col, code) for row, col, _v, code in errors_of(batch)] == [(5, "所属乡镇", "required")]

    batch = confirm_and_commit(
        check(_upload(county_clerk_kim, files.xlsx(rows[:2], header=HEADER), None)), county_clerk_kim
    )
    assert batch.status == ImportStatus.COMMITTED, errors_of(batch)
    assert sorted(Organization.objects.values_list("township__name", flat=True)) == ["向塘镇", "莲塘镇"]


def test_a_withdrawn_township_is_no_longer_a_township_of_the_county(cast, county_clerk_kim, files):
    type(cast.township_b).objects.filter(pk=cast.township_b.pk).update(valid_to=dt.date(2020, 12, 31))
    batch = check(
        _upload(county_clerk_kim, files.xlsx([_row(_code(1), township="向塘镇")], header=HEADER), None)
    )
    assert [code for *_, code in errors_of(batch)] == ["unknown_township"]


@pytest.mark.usefixtures("english_messages")
@pytest.mark.parametrize(
    ("code", "params", "value", "expected"),
    [
        (
            "credit_code_bad_checksum",
            {"value": "91110000600037341m"},
            "91110000600037341m",
            "The credit code 91110000600037341M has a wrong check character.",
        ),
        (
            "credit_code_stored_as_number",
            {"value": "913601211234567890"},
            "913601211234567890",
            "The credit code 913601211234567890 was stored as a number, so characters may be lost.",
        ),
        (
            "unknown_size_class",
            {},
            "特大型",
            "Unknown size class. Write one of: Large、Medium、Small、Micro.",
        ),
        ("unknown_township", {}, "不存在镇", "No township of the county has this code or name."),
        (
            "not_batch_township",
            {"township": "莲塘镇", "other": "向塘镇"},
            "向塘镇",
            "This list is for 莲塘镇; the organization's township is 向塘镇.",
        ),
        (
            "conflicting_codes",
            {"rows": [4, 6]},
            "x",
            "The same credit code is in rows 4、6 with different values;",
        ),
        (
            "registered_elsewhere",
            {},
            "x",
            "This credit code is already registered to an organization of another township",
        ),
        (
            "bad_year",
            {"last": 2026},
            "1989",
            "The size classification year must be a year from 1990 to 2026.",
        ),
        ("duplicate_row", {"first_row": 3}, "x", "Same as row 3: the row is in the file twice."),
    ],
)
def test_every_reason_reads_as_a_sentence_in_english(code, params, value, expected):
    assert error_message(Employers(), code, params, value).startswith(expected)


# --- Template, command line, API ------------------------------------------------------------------


def test_the_template_has_every_column_and_its_example_rows_import_cleanly(cast, files):
    import pandas as pd

    path = services.import_template_workbook(KIND)
    sheet = pd.read_excel(path, dtype=str, engine="calamine", keep_default_na=False)
    assert list(sheet.columns) == [*HEADER, "划型年度", "划型依据"]
    batch = check(_upload(cast.maker_ann, path, cast.township_a))
    assert batch.status == ImportStatus.VALIDATED, errors_of(batch)
    assert batch.rows_total == len(Employers.template_rows)


def test_the_command_imports_a_clean_file_and_prints_each_bad_row_otherwise(cast, files):
    out = StringIO()
    import_file(KIND, files.xlsx(_rows(3), header=HEADER), cast.township_a, out=out)
    batch = ImportBatch.objects.get()
    assert (
        out.getvalue().strip()
        == f"Batch {batch.pk} imported: 3 rows, 3 records changed, 0 already up to date."
    )

    rows = _rows(5)[3:]
    rows[1][2] = "特大型"
    out = StringIO()
    with pytest.raises(CommandError, match="1 of 2 rows are bad; nothing was imported"):
        import_file(KIND, files.xlsx(rows, header=HEADER), cast.township_a, out=out)
    assert out.getvalue().splitlines() == [
        "row 4, column 企业划型, value 特大型: Unknown size class. Write one of: Large、Medium、Small、Micro."
    ]
    assert Organization.objects.count() == 3


class TestUploadApi:
    def _post(self, api, user, path, township):
        return post_upload(api, user, KIND, path, township)

    def test_a_clerk_uploads_a_list_which_is_checked_and_then_imported_on_confirmation(
        self, api, cast, files, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = self._post(api, cast.maker_ann, files.xlsx(_rows(3), header=HEADER), cast.township_a)
        assert response.status_code == 201, response.json()
        batch_id = response.json()["id"]
        assert ImportBatch.objects.get(pk=batch_id).status == ImportStatus.VALIDATED
        with django_capture_on_commit_callbacks(execute=True):
            assert api.as_user(cast.maker_ann).post(f"/api/imports/{batch_id}/confirm/").status_code == 202
        assert Organization.objects.count() == 3

    def test_an_auditor_may_not_upload(self, api, cast, files):
        assert (
            self._post(
                api, cast.auditor_gus, files.xlsx(_rows(3), header=HEADER), cast.township_a
            ).status_code
            == 403
        )
        assert not ImportBatch.objects.exists()

    def test_another_townships_upload_is_not_found(self, api, cast, files):
        assert (
            self._post(
                api, cast.outsider_eve, files.xlsx(_rows(3), header=HEADER), cast.township_a
            ).status_code
            == 404
        )
        assert not ImportBatch.objects.exists()

    def test_confirming_a_rejected_list_is_a_conflict(
        self, api, cast, files, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            batch_id = self._post(
                api, cast.maker_ann, files.xlsx([_row("123")], header=HEADER), cast.township_a
            ).json()["id"]
        response = api.as_user(cast.maker_ann).post(f"/api/imports/{batch_id}/confirm/")
        assert response.status_code == 409
        assert (response.json()["ids"], response.json()["status"]) == ([batch_id], "rejected")

    def test_the_errors_endpoint_gives_the_reason_in_the_callers_language(
        self, api, cast, files, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            batch_id = self._post(
                api, cast.maker_ann, files.xlsx([_row("91110000600037341M")], header=HEADER), cast.township_a
            ).json()["id"]
        body = (
            api.as_user(cast.maker_ann)
            .get(f"/api/imports/{batch_id}/errors/", HTTP_ACCEPT_LANGUAGE="en")
            .json()
        )
        ((row, column, value, code, reason),) = [
            (e["row"], e["column"], e["value"], e["code"], e["reason"]) for e in body["results"]
        ]
        assert (row, column, value, code) == (
            3,
            "统一社会信用代码",
            "91110000600037341M",
            "credit_code_bad_checksum",
        )
        assert reason.startswith("The credit code 91110000600037341M has a wrong check character.")
