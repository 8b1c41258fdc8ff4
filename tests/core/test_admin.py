"""The admin role manages users and divisions in the Django admin; it is never a superuser."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_admin_role_opens_the_user_list_and_other_roles_cannot(client, cast):
    client.force_login(cast.admin_ivy)
    assert client.get("/admin/core/user/").status_code == 200
    client.force_login(cast.maker_ann)
    assert client.get("/admin/core/user/").status_code == 302  # to the admin login: not staff


def test_a_division_saved_in_the_admin_takes_its_level_and_kind_from_the_code(client, cast):
    client.force_login(cast.admin_ivy)
    response = client.post(
        "/admin/core/administrativedivision/add/",
        {
            "code": "360121200000",
            "name": "泾口乡",
            "level": "township",
            "parent": cast.county.pk,
            "urban_rural_code": "210",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    from socialsec.core.models import AdministrativeDivision

    township = AdministrativeDivision.objects.get(code="360121200000")
    assert (township.level, township.kind) == ("township", "township")  # DOMAIN §6.3: 200–399 乡
