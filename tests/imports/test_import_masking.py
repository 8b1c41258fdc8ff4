"""Personal numbers in an import's bad rows are masked for anyone but the uploader and the roles
that may unmask (issue 3: "Resident IDs … masked everywhere (pages, API, exports, logs) unless the
user holds the unmask permission")."""

from __future__ import annotations

import pytest

from socialsec.core.choices import Role
from tests.factories import UserFactory
from tests.imports.helpers import check, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("api_urls")]

# A well-formed ID nobody in the registry holds: the row is refused as "person not found".
UNKNOWN_ID = "11010519491231002X"


@pytest.fixture
def bad_batch(cast, persons_in_a, files):
    rows = [[p.id_number, p.name, "2024-03-05"] for p in persons_in_a]
    rows.append([UNKNOWN_ID, "某某", "2024-03-05"])
    return check(upload(cast.maker_ann, files.xlsx(rows), cast.township_a))


@pytest.fixture
def clerk_two(cast):
    """A second clerk of Township A: sees the batch, may not unmask."""
    return UserFactory(username="clerk_two", roles=[Role.CLERK], townships=[cast.township_a])


def _values(api, user, batch) -> list[str]:
    response = api.as_user(user).get(f"/api/imports/{batch.pk}/errors/")
    assert response.status_code == 200
    return [row["value"] for row in response.json()["results"] if row["column"] == "公民身份号码"]


def test_the_uploader_sees_the_number_from_her_own_file(api, cast, bad_batch):
    assert _values(api, cast.maker_ann, bad_batch) == [UNKNOWN_ID]


def test_another_clerk_sees_it_masked_in_the_api_and_the_reason(api, cast, bad_batch, clerk_two):
    assert _values(api, clerk_two, bad_batch) == ["**************002X"]
    reasons = api.as_user(clerk_two).get(f"/api/imports/{bad_batch.pk}/errors/").json()["results"]
    assert all(UNKNOWN_ID not in row["reason"] for row in reasons)


def test_a_role_that_may_unmask_sees_it(api, cast, bad_batch):
    assert _values(api, cast.checker_ben, bad_batch) == [UNKNOWN_ID]


def test_another_clerk_sees_it_masked_on_the_page(client, cast, bad_batch, clerk_two):
    client.force_login(clerk_two)
    page = client.get(f"/imports/{bad_batch.pk}/").content.decode()
    assert UNKNOWN_ID not in page
    assert "**************002X" in page
    assert "errors.xlsx" not in page
    client.force_login(cast.maker_ann)
    own = client.get(f"/imports/{bad_batch.pk}/").content.decode()
    assert UNKNOWN_ID in own
    assert "errors.xlsx" in own


def test_the_bad_rows_workbook_is_the_uploaders_or_an_unmaskers(api, client, cast, bad_batch, clerk_two):
    assert api.as_user(clerk_two).get(f"/api/imports/{bad_batch.pk}/errors.xlsx").status_code == 403
    assert api.as_user(cast.maker_ann).get(f"/api/imports/{bad_batch.pk}/errors.xlsx").status_code == 200
    assert api.as_user(cast.checker_ben).get(f"/api/imports/{bad_batch.pk}/errors.xlsx").status_code == 200
    client.force_login(clerk_two)
    assert client.get(f"/imports/{bad_batch.pk}/errors.xlsx").status_code == 403
