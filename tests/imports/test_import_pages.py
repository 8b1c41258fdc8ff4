"""The clerk's import pages: upload, the batch page with its bad rows, confirm and cancel."""

from __future__ import annotations

import pytest
from django.urls import reverse

from socialsec.core.navigation import navigation_for
from socialsec.imports.choices import ImportStatus
from socialsec.imports.models import ImportBatch
from tests.imports.conftest import DEATH
from tests.imports.helpers import death_dates, upload

pytestmark = pytest.mark.django_db


class CommittingClient:
    """maker_ann's browser session in which each request's after-commit work (a small file's
    check or commit) runs when the request returns, as it does outside the test transaction."""

    def __init__(self, client, capture) -> None:
        self.client, self.capture = client, capture

    def get(self, *args, **kwargs):
        return self.client.get(*args, **kwargs)

    def post(self, *args, **kwargs):
        with self.capture(execute=True):
            return self.client.post(*args, **kwargs)


@pytest.fixture
def ann(client, cast, django_capture_on_commit_callbacks):
    client.force_login(cast.maker_ann)
    return CommittingClient(client, django_capture_on_commit_callbacks)


def _post_file(client, path, township):
    with open(path, "rb") as handle:
        return client.post(
            reverse("imports:batch_upload"),
            {"kind": "death_records", "township": str(township.pk), "file": handle},
        )


def test_a_clerk_uploads_a_file_reads_its_bad_rows_and_cannot_confirm_it(ann, cast, persons_in_a, files):
    rows = [[p.id_number, p.name, "2024-03-05"] for p in persons_in_a]
    rows[2][2] = "2099-12-31"
    response = _post_file(ann, files.xlsx(rows), cast.township_a)
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "imports:batch_detail", args=[batch.pk]
    )

    page = ann.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-status="rejected"' in page
    assert "2099-12-31" in page and "is in the future" in page
    assert reverse("imports:batch_errors_xlsx", args=[batch.pk]) in page
    assert reverse("imports:batch_confirm", args=[batch.pk]) not in page
    assert reverse("imports:batch_cancel", args=[batch.pk]) in page
    assert death_dates(persons_in_a) == [None] * 5


def test_a_clean_file_is_confirmed_from_its_page_and_imported(ann, cast, persons_in_a, files):
    _post_file(ann, files.xlsx([[p.id_number, p.name, "2024-03-05"] for p in persons_in_a]), cast.township_a)
    batch = ImportBatch.objects.get()
    assert (
        reverse("imports:batch_confirm", args=[batch.pk]) in ann.get(f"/imports/{batch.pk}/").content.decode()
    )
    response = ann.post(reverse("imports:batch_confirm", args=[batch.pk]))
    assert response.status_code == 302
    assert ImportBatch.objects.get().status == ImportStatus.COMMITTED
    assert death_dates(persons_in_a) == [DEATH] * 5
    page = ann.get(f"/imports/{batch.pk}/").content.decode()
    assert 'data-status="committed"' in page


def test_the_progress_bar_polls_while_running_and_reloads_the_page_when_done(ann, cast, files):
    batch = upload(cast.maker_ann, files.xlsx([["1", "某", "2024-03-05"]]), cast.township_a)
    page = ann.get(f"/imports/{batch.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page and 'data-progress="0"' in page
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.REJECTED)
    polled = ann.get(reverse("imports:batch_progress", args=[batch.pk]), HTTP_HX_REQUEST="true")
    assert (polled.status_code, polled["HX-Refresh"]) == (204, "true")
    assert 'hx-trigger="every 1s"' not in ann.get(f"/imports/{batch.pk}/").content.decode()


def test_the_upload_form_offers_only_the_clerks_townships(ann, cast):
    page = ann.get(reverse("imports:batch_upload")).content.decode()
    assert cast.township_a.name in page and cast.township_b.name not in page


def test_another_townships_batch_page_is_not_found_and_a_reader_cannot_upload(client, cast, files):
    batch = upload(cast.maker_ann, files.xlsx([["1", "某", "2024-03-05"]]), cast.township_a)
    client.force_login(cast.outsider_eve)
    assert client.get(f"/imports/{batch.pk}/").status_code == 404
    assert client.post(reverse("imports:batch_cancel", args=[batch.pk])).status_code == 404
    client.force_login(cast.checker_ben)
    assert client.get(f"/imports/{batch.pk}/").status_code == 200
    assert client.get(reverse("imports:batch_upload")).status_code == 403
    client.force_login(cast.leader_hua)
    assert client.get(reverse("imports:batch_list")).status_code == 403


def test_the_imports_item_is_in_the_navigation_of_those_who_may_read_imports(cast):
    def has_item(user):
        return any(link.url == reverse("imports:batch_list") for link in navigation_for(user))

    assert has_item(cast.maker_ann) and has_item(cast.auditor_gus)
    assert not has_item(cast.leader_hua)


def test_the_list_shows_the_batches_and_the_template_downloads(ann, cast, files):
    batch = upload(cast.maker_ann, files.xlsx([["1", "某", "2024-03-05"]]), cast.township_a)
    page = ann.get(reverse("imports:batch_list")).content.decode()
    assert f'href="/imports/{batch.pk}/"' in page
    response = ann.get(reverse("imports:kind_template", args=["death_records"]))
    assert response.status_code == 200 and b"".join(response.streaming_content)[:2] == b"PK"
