"""The import API: each endpoint's success, 403, 404, 409 and a query count that does not grow with rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from socialsec.imports.choices import ImportStatus
from socialsec.imports.models import ImportBatch
from tests.imports.helpers import check, confirm_and_commit, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("api_urls")]


@pytest.fixture
def make_batch(cast, persons_in_a, files):
    """A batch of Township A: validated (clean), or rejected with `bad` bad rows."""

    def make(bad: int = 0, *, checked: bool = True) -> ImportBatch:
        rows = [[p.id_number, p.name, "2024-03-05"] for p in persons_in_a]
        rows += [[f"1234{index}", "某", "2024-03-05"] for index in range(bad)]
        batch = upload(cast.maker_ann, files.xlsx(rows), cast.township_a)
        return check(batch) if checked else batch

    return make


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


class TestUpload:
    def test_a_clerk_uploads_a_file_and_gets_the_checked_batch(self, api, cast, persons_in_a, files):
        path = files.xlsx([[p.id_number, p.name, "2024-03-05"] for p in persons_in_a])
        with open(path, "rb") as handle:
            response = api.as_user(cast.maker_ann).post(
                "/api/imports/",
                {"kind": "death_records", "township": cast.township_a.pk, "file": handle},
                format="multipart",
            )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert (body["kind"], body["township"]["code"], body["original_name"]) == (
            "death_records",
            cast.township_a.code,
            path.name,
        )
        assert body["status"] == ImportStatus.UPLOADED  # the check starts once the request commits

    def test_a_section_chief_may_not_upload(self, api, cast, files):
        with open(files.xlsx([]), "rb") as handle:
            response = api.as_user(cast.checker_ben).post(
                "/api/imports/",
                {"kind": "death_records", "township": cast.township_a.pk, "file": handle},
                format="multipart",
            )
        assert response.status_code == 403

    def test_another_townships_upload_is_not_found(self, api, cast, files):
        with open(files.xlsx([]), "rb") as handle:
            response = api.as_user(cast.outsider_eve).post(
                "/api/imports/",
                {"kind": "death_records", "township": cast.township_a.pk, "file": handle},
                format="multipart",
            )
        assert response.status_code == 404

    def test_a_file_already_imported_is_a_conflict_naming_the_batch(self, api, cast, make_batch, files):
        first = confirm_and_commit(make_batch(), cast.maker_ann)
        stored = first.stored_path
        from django.conf import settings

        with open(settings.MEDIA_ROOT / stored, "rb") as handle:
            response = api.as_user(cast.maker_ann).post(
                "/api/imports/",
                {"kind": "death_records", "township": cast.township_a.pk, "file": handle},
                format="multipart",
            )
        assert response.status_code == 409
        assert response.json()["ids"] == [first.pk]
        assert response.json()["error"] == "duplicate_import"

    def test_the_list_costs_the_same_queries_for_2_or_20_batches(self, api, cast, make_batch):
        client = api.as_user(cast.maker_ann)
        for _ in range(2):
            make_batch(bad=1, checked=False)
        two = _queries(lambda: client.get("/api/imports/"))
        for _ in range(18):
            make_batch(bad=1, checked=False)
        assert len(client.get("/api/imports/").json()["results"]) == 20
        assert _queries(lambda: client.get("/api/imports/")) == two


class TestDetail:
    def test_a_clerk_reads_status_progress_and_counts(self, api, cast, make_batch):
        batch = make_batch(bad=2)
        body = api.as_user(cast.maker_ann).get(f"/api/imports/{batch.pk}/").json()
        assert (body["status"], body["progress"], body["rows_total"], body["rows_invalid"]) == (
            ImportStatus.REJECTED,
            100,
            7,
            2,
        )

    def test_a_county_leader_without_the_permission_is_refused(self, api, cast, make_batch):
        assert api.as_user(cast.leader_hua).get(f"/api/imports/{make_batch().pk}/").status_code == 403

    def test_another_townships_batch_is_not_found(self, api, cast, make_batch):
        assert api.as_user(cast.outsider_eve).get(f"/api/imports/{make_batch().pk}/").status_code == 404

    def test_a_county_wide_batch_is_not_found_for_a_township_clerk(self, api, cast, county_clerk_kim, files):
        # Reading has no wrong state; the fourth case here is the county-wide batch's visibility.
        batch = upload(county_clerk_kim, files.xlsx([["1", "某", "2024-03-05"]]), None)
        assert api.as_user(cast.maker_ann).get(f"/api/imports/{batch.pk}/").status_code == 404
        assert api.as_user(cast.auditor_gus).get(f"/api/imports/{batch.pk}/").status_code == 200

    def test_the_query_count_does_not_grow_with_bad_rows(self, api, cast, make_batch):
        client = api.as_user(cast.maker_ann)
        small, large = make_batch(bad=2), make_batch(bad=20)
        assert _queries(lambda: client.get(f"/api/imports/{small.pk}/")) == _queries(
            lambda: client.get(f"/api/imports/{large.pk}/")
        )


class TestErrors:
    def test_bad_rows_come_in_file_order_with_the_reason_in_the_callers_language(self, api, cast, make_batch):
        batch = make_batch(bad=3)
        body = (
            api.as_user(cast.maker_ann)
            .get(f"/api/imports/{batch.pk}/errors/?page_size=2", HTTP_ACCEPT_LANGUAGE="en")
            .json()
        )
        assert [(e["row"], e["column"], e["value"], e["code"]) for e in body["results"]] == [
            (8, "公民身份号码", "12340", "bad_length"),
            (9, "公民身份号码", "12341", "bad_length"),
        ]
        assert body["results"][0]["reason"].startswith("The ID number 12340 has 5 characters.")
        rest = api.as_user(cast.maker_ann).get(body["next"]).json()
        assert [e["row"] for e in rest["results"]] == [10]

    def test_a_county_leader_is_refused(self, api, cast, make_batch):
        assert (
            api.as_user(cast.leader_hua).get(f"/api/imports/{make_batch(bad=1).pk}/errors/").status_code
            == 403
        )

    def test_another_townships_errors_are_not_found(self, api, cast, make_batch):
        assert (
            api.as_user(cast.outsider_eve).get(f"/api/imports/{make_batch(bad=1).pk}/errors/").status_code
            == 404
        )

    def test_errors_of_a_batch_still_being_checked_are_a_conflict(self, api, cast, make_batch):
        batch = make_batch(bad=1, checked=False)
        response = api.as_user(cast.maker_ann).get(f"/api/imports/{batch.pk}/errors/")
        assert response.status_code == 409
        assert (response.json()["ids"], response.json()["status"]) == ([batch.pk], "uploaded")

    def test_the_query_count_is_the_same_for_2_or_20_bad_rows(self, api, cast, make_batch):
        client = api.as_user(cast.maker_ann)
        small, large = make_batch(bad=2), make_batch(bad=20)
        assert _queries(lambda: client.get(f"/api/imports/{small.pk}/errors/")) == _queries(
            lambda: client.get(f"/api/imports/{large.pk}/errors/")
        )


class TestErrorWorkbook:
    def test_the_bad_rows_download_as_xlsx(self, api, cast, make_batch):
        response = api.as_user(cast.checker_ben).get(f"/api/imports/{make_batch(bad=2).pk}/errors.xlsx")
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
        assert b"".join(response.streaming_content)[:2] == b"PK"

    def test_a_county_leader_is_refused(self, api, cast, make_batch):
        assert (
            api.as_user(cast.leader_hua).get(f"/api/imports/{make_batch(bad=1).pk}/errors.xlsx").status_code
            == 403
        )

    def test_another_townships_workbook_is_not_found(self, api, cast, make_batch):
        response = api.as_user(cast.outsider_eve).get(f"/api/imports/{make_batch(bad=1).pk}/errors.xlsx")
        assert response.status_code == 404

    def test_a_batch_still_being_checked_has_no_workbook_yet(self, api, cast, make_batch):
        response = api.as_user(cast.maker_ann).get(
            f"/api/imports/{make_batch(bad=1, checked=False).pk}/errors.xlsx"
        )
        assert response.status_code == 409

    def test_the_query_count_is_the_same_for_2_or_20_bad_rows(self, api, cast, make_batch):
        client = api.as_user(cast.maker_ann)
        small, large = make_batch(bad=2), make_batch(bad=20)

        def fetch(batch):
            return lambda: b"".join(client.get(f"/api/imports/{batch.pk}/errors.xlsx").streaming_content)

        assert _queries(fetch(small)) == _queries(fetch(large))


class TestConfirm:
    def test_a_clerk_confirms_a_checked_batch_and_it_is_imported(
        self, api, cast, make_batch, persons_in_a, django_capture_on_commit_callbacks
    ):
        batch = make_batch()
        with django_capture_on_commit_callbacks(execute=True):
            response = api.as_user(cast.maker_ann).post(f"/api/imports/{batch.pk}/confirm/")
        assert response.status_code == 202
        assert response.json()["status"] == ImportStatus.COMMITTING
        assert ImportBatch.objects.get(pk=batch.pk).status == ImportStatus.COMMITTED

    def test_a_section_chief_may_not_confirm(self, api, cast, make_batch):
        assert (
            api.as_user(cast.checker_ben).post(f"/api/imports/{make_batch().pk}/confirm/").status_code == 403
        )

    def test_another_townships_batch_is_not_found(self, api, cast, make_batch):
        assert (
            api.as_user(cast.outsider_eve).post(f"/api/imports/{make_batch().pk}/confirm/").status_code == 404
        )

    def test_a_rejected_batch_is_a_conflict_naming_the_batch_and_its_status(self, api, cast, make_batch):
        batch = make_batch(bad=1)
        response = api.as_user(cast.maker_ann).post(
            f"/api/imports/{batch.pk}/confirm/", HTTP_ACCEPT_LANGUAGE="en"
        )
        assert response.status_code == 409
        body = response.json()
        assert (body["ids"], body["status"]) == ([batch.pk], "rejected")
        assert str(batch.pk) in body["detail"]

    def test_the_query_count_does_not_grow_with_rows(self, api, cast, make_batch, persons_in_a, files):
        client = api.as_user(cast.maker_ann)
        small = make_batch()
        from tests.factories import PersonFactory

        more = [PersonFactory(village=cast.village_a) for _ in range(15)]
        large = check(
            upload(
                cast.maker_ann,
                files.xlsx([[p.id_number, p.name, "2024-03-05"] for p in more]),
                cast.township_a,
            )
        )
        assert _queries(lambda: client.post(f"/api/imports/{small.pk}/confirm/")) == _queries(
            lambda: client.post(f"/api/imports/{large.pk}/confirm/")
        )


class TestCancel:
    def test_a_clerk_cancels_a_rejected_batch(self, api, cast, make_batch):
        response = api.as_user(cast.maker_ann).post(f"/api/imports/{make_batch(bad=1).pk}/cancel/")
        assert (response.status_code, response.json()["status"]) == (200, ImportStatus.CANCELLED)

    def test_a_section_chief_may_not_cancel(self, api, cast, make_batch):
        assert (
            api.as_user(cast.checker_ben).post(f"/api/imports/{make_batch().pk}/cancel/").status_code == 403
        )

    def test_another_townships_batch_is_not_found(self, api, cast, make_batch):
        assert (
            api.as_user(cast.outsider_eve).post(f"/api/imports/{make_batch().pk}/cancel/").status_code == 404
        )

    def test_a_committed_batch_cannot_be_cancelled(self, api, cast, make_batch):
        batch = confirm_and_commit(make_batch(), cast.maker_ann)
        response = api.as_user(cast.maker_ann).post(f"/api/imports/{batch.pk}/cancel/")
        assert response.status_code == 409
        assert (response.json()["ids"], response.json()["status"]) == ([batch.pk], "committed")

    def test_the_query_count_is_the_same_for_2_or_20_bad_rows(self, api, cast, make_batch):
        client = api.as_user(cast.maker_ann)
        small, large = make_batch(bad=2), make_batch(bad=20)
        assert _queries(lambda: client.post(f"/api/imports/{small.pk}/cancel/")) == _queries(
            lambda: client.post(f"/api/imports/{large.pk}/cancel/")
        )


class TestKinds:
    def test_every_logged_in_user_reads_the_kinds_and_their_columns(self, api, cast):
        body = api.as_user(cast.leader_hua).get("/api/import-kinds/", HTTP_ACCEPT_LANGUAGE="en").json()
        death = next(kind for kind in body if kind["name"] == "death_records")
        assert death["columns"] == ["公民身份号码", "姓名", "死亡日期", "数据来源"]
        assert death["required"] == ["公民身份号码", "死亡日期"]

    def test_an_anonymous_caller_is_refused(self, api):
        assert api.get("/api/import-kinds/").status_code in (401, 403)

    def test_the_kinds_cost_no_query_beyond_authentication(self, api, cast):
        client = api.as_user(cast.maker_ann)
        assert _queries(lambda: client.get("/api/import-kinds/")) == 0
