"""/api/: token and session auth, the OpenAPI schema and docs, one error shape (foundation issue)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_a_token_from_username_and_password_opens_the_api(cast, person_in_a):
    client = APIClient()
    response = client.post("/api/auth/token/", {"username": "maker_ann", "password": "correct horse battery"})
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    persons = client.get("/api/persons/")
    assert persons.status_code == 200
    assert [row["id"] for row in persons.json()["results"]] == [person_in_a.pk]


def test_a_wrong_password_gets_no_token_and_a_named_error(cast):
    response = APIClient().post("/api/auth/token/", {"username": "maker_ann", "password": "wrong"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_input"
    assert "non_field_errors" in response.json()["fields"]


def test_a_session_login_works_for_the_api_too(client, cast):
    client.force_login(cast.maker_ann)
    me = client.get("/api/me/").json()
    assert me["username"] == "maker_ann"
    assert me["roles"] == ["clerk"]
    assert me["townships"] == [{"id": cast.township_a.pk, "code": cast.township_a.code, "name": "莲塘镇"}]
    assert me["county_wide"] is False and me["may_unmask"] is False


def test_me_shows_a_county_wide_auditor(api, cast):
    me = api.as_user(cast.auditor_gus).get("/api/me/").json()
    assert (me["roles"], me["county_wide"], me["townships"], me["may_unmask"]) == (
        ["auditor"],
        True,
        [],
        True,
    )


def test_the_openapi_schema_describes_the_endpoints_for_logged_in_users(api, cast):
    assert APIClient().get("/api/schema/").status_code in (401, 403)
    response = api.as_user(cast.maker_ann).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/persons/", "/api/persons/{id}/", "/api/persons/{id}/death/", "/api/me/"} <= set(
        schema["paths"]
    )


def test_the_docs_page_loads_its_assets_from_this_server(client, cast):
    client.force_login(cast.maker_ann)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger" in html.lower()
    assert "cdn" not in html.lower() and "https://" not in html


def test_the_division_tree_is_reference_data_for_every_logged_in_user(api, cast):
    rows = api.as_user(cast.outsider_eve).get("/api/divisions/", {"level": "township"}).json()["results"]
    assert {row["code"] for row in rows} == {cast.township_a.code, cast.township_b.code}
    villages = api.as_user(cast.outsider_eve).get("/api/divisions/", {"parent": cast.township_a.code}).json()
    assert [row["code"] for row in villages["results"]] == [cast.village_a.code]


def test_the_schema_validates_without_warnings():
    # Nested InputSerializer/OutputSerializer classes repeat across views; socialsec.core.api.AutoSchema
    # names them after their view so components never collide (check --deploy would warn).
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
