"""The registry completed: phone, card, bank account, masking, audited unmasking, and the
address-code confirmation of DOMAIN §6.1 gap 4 (issue 3, "Registry")."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from enrollment import services
from enrollment.choices import CardStatus
from enrollment.models import Person
from socialsec.core.choices import Role
from socialsec.core.exceptions import InvalidState, NotPermitted, NotVisible
from socialsec.lib.masking import mask_bank_account, mask_card_number, mask_tail
from tests.factories import PersonFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]


ACCOUNT = "6217001234567891234"
CARD = "A36012145"


@pytest.fixture
def banked_in_a(cast) -> Person:
    return PersonFactory(
        village=cast.village_a,
        name="李明",
        phone="13907910001",
        card_number=CARD,
        card_status=CardStatus.ACTIVE,
        bank_account_number=ACCOUNT,
        bank_name="中国农业银行",
    )


@pytest.fixture
def banked_in_b(cast) -> Person:
    return PersonFactory(village=cast.village_b, bank_account_number="6228480000000000001")


@pytest.fixture
def unverified_in_a(cast) -> Person:
    return PersonFactory(village=cast.village_a, name="周新", address_code_unverified=True)


# --- Masking: the framework-free helper ------------------------------------------------------------


@pytest.mark.django_db(False)
def test_a_bank_account_keeps_only_its_last_four_characters():
    assert mask_bank_account("6217001234561234") == "************1234"
    assert mask_card_number(CARD) == "*****2145"


@pytest.mark.django_db(False)
def test_a_short_or_empty_number_shows_nothing_of_itself():
    assert mask_tail("1234") == "****"
    assert mask_tail("") == ""
    assert mask_tail(" 6217 0012 3456 1234 ") == "************1234"


# --- The database guards the new columns -----------------------------------------------------------


def test_a_card_number_belongs_to_one_person_while_many_have_none(cast, banked_in_a):
    PersonFactory(village=cast.village_a)
    PersonFactory(village=cast.village_a)  # two blank card numbers do not clash
    with pytest.raises(IntegrityError, match="person_card_number_unique"), transaction.atomic():
        PersonFactory(village=cast.village_a, card_number=CARD, card_status=CardStatus.ACTIVE)


def test_a_card_in_use_has_a_number(cast):
    with pytest.raises(IntegrityError, match="person_card_status_has_number"), transaction.atomic():
        PersonFactory(village=cast.village_a, card_status=CardStatus.ACTIVE)


def test_a_confirmation_cannot_sit_on_a_code_still_awaiting_one(cast, unverified_in_a):
    from django.utils import timezone

    with (
        pytest.raises(IntegrityError, match="person_address_code_confirmation_recorded"),
        transaction.atomic(),
    ):
        Person.objects.filter(pk=unverified_in_a.pk).update(
            address_code_confirmed_by=cast.checker_ben, address_code_confirmed_at=timezone.now()
        )


def test_raw_inserts_that_predate_the_new_columns_get_their_database_defaults(cast):
    # The seeder and the imports COPY without naming the new columns (db_default).
    template = PersonFactory.build(village=cast.village_a)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO enrollment_person (id_number, name, sex, birth_date, registration_type, township_id,"
            " village_id, relationship, death_source, created_at, updated_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, '', '', now(), now()) RETURNING id",
            [
                template.id_number,
                "孙七",
                template.sex,
                template.birth_date,
                template.registration_type,
                cast.township_a.pk,
                cast.village_a.pk,
            ],
        )
        pk = cursor.fetchone()[0]
    person = Person.objects.get(pk=pk)
    assert (person.phone, person.card_number, person.card_status) == ("", "", CardStatus.NONE)
    assert (person.bank_account_number, person.address_code_unverified) == ("", False)


# --- The person API shows the new fields masked ----------------------------------------------------


def test_the_person_api_masks_card_and_bank_account(api, cast, banked_in_a):
    response = api.as_user(cast.checker_ben).get(f"/api/persons/{banked_in_a.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["bank_account_masked"] == "***************1234"
    assert body["card_number_masked"] == "*****2145"
    assert body["card_status"] == "active" and body["bank_name"] == "中国农业银行"
    assert body["phone"] == "13907910001"
    assert ACCOUNT not in response.content.decode()
    assert CARD not in response.content.decode()
    listed = api.as_user(cast.maker_ann).get("/api/persons/").content.decode()
    assert ACCOUNT not in listed and CARD not in listed


# --- Unmasking the bank account (API): five cases --------------------------------------------------


class TestPersonUnmaskBankAccountApi:
    def url(self, person: Person) -> str:
        return f"/api/persons/{person.pk}/unmask-bank-account/"

    def test_a_section_chief_unmasks_and_one_event_names_them(self, api, cast, banked_in_a):
        response = api.as_user(cast.checker_ben).post(self.url(banked_in_a))
        assert response.status_code == 200
        assert response.json()["bank_account_number"] == ACCOUNT
        events = banked_in_a.events.filter(pgh_label="unmask_bank_account").select_related("pgh_context")
        assert events.count() == 1
        assert events.get().pgh_context.metadata["user"] == cast.checker_ben.pk
        assert events.get().pgh_context.metadata["action"] == "unmask_bank_account"

    def test_a_clerk_may_not_unmask_and_nothing_is_recorded(self, api, cast, banked_in_a):
        response = api.as_user(cast.maker_ann).post(self.url(banked_in_a))
        assert response.status_code == 403
        assert not banked_in_a.events.filter(pgh_label="unmask_bank_account").exists()

    def test_another_townships_person_is_404_and_nothing_is_recorded(self, api, cast, banked_in_b):
        assert api.as_user(cast.checker_ben).post(self.url(banked_in_b)).status_code == 404
        assert not banked_in_b.events.filter(pgh_label="unmask_bank_account").exists()

    def test_a_person_without_an_account_is_409_and_nothing_is_recorded(self, api, cast, person_in_a):
        response = api.as_user(cast.checker_ben).post(self.url(person_in_a))
        assert response.status_code == 409
        assert response.json()["person_id"] == person_in_a.pk
        assert not person_in_a.events.filter(pgh_label="unmask_bank_account").exists()

    def test_constant_queries(self, api, cast, banked_in_a, django_assert_max_num_queries):
        # permissions (user, groups) + township ids + the person + savepoint/context/event writes
        with django_assert_max_num_queries(8):
            api.as_user(cast.checker_ben).post(self.url(banked_in_a))


def test_the_unmasked_account_never_enters_the_timeline_as_a_value(client, cast, banked_in_a):
    services.person_unmask_bank_account(person_id=banked_in_a.pk, by=cast.checker_ben)
    client.force_login(cast.checker_ben)
    html = client.get(f"/persons/{banked_in_a.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Full bank account number viewed" in html
    assert ACCOUNT not in html


# --- Unmasking the bank account (page) -------------------------------------------------------------


def test_the_page_shows_phone_card_and_bank_masked(client, cast, banked_in_a):
    client.force_login(cast.maker_ann)
    html = client.get(f"/persons/{banked_in_a.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "13907910001" in html
    assert "***************1234" in html and "*****2145" in html
    assert ACCOUNT not in html and CARD not in html
    assert "中国农业银行" in html and "In use" in html
    assert f"/persons/{banked_in_a.pk}/unmask-bank-account/" not in html  # a clerk has no button


def test_a_section_chief_unmasks_the_account_on_the_page_with_htmx(client, cast, banked_in_a):
    client.force_login(cast.checker_ben)
    page = client.get(f"/persons/{banked_in_a.pk}/").content.decode()
    assert f'hx-post="/persons/{banked_in_a.pk}/unmask-bank-account/"' in page
    response = client.post(f"/persons/{banked_in_a.pk}/unmask-bank-account/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert ACCOUNT in response.content.decode() and "<html" not in response.content.decode()
    assert banked_in_a.events.filter(pgh_label="unmask_bank_account").count() == 1


def test_a_clerk_unmasking_the_account_on_the_page_is_refused(client, cast, banked_in_a):
    client.force_login(cast.maker_ann)
    response = client.post(f"/persons/{banked_in_a.pk}/unmask-bank-account/", HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert ACCOUNT not in response.content.decode()


# --- Confirming an unknown address code (DOMAIN §6.1 gap 4) -----------------------------------------


def test_the_service_records_who_confirmed_and_clears_the_flag(cast, unverified_in_a):
    person = services.person_confirm_address_code(person_id=unverified_in_a.pk, by=cast.checker_ben)
    person.refresh_from_db()
    assert not person.address_code_unverified
    assert person.address_code_confirmed_by == cast.checker_ben
    assert person.address_code_confirmed_at is not None
    event = person.events.filter(pgh_label="update").select_related("pgh_context").latest("pgh_id")
    assert event.pgh_context.metadata == {"user": cast.checker_ben.pk, "action": "confirm_address_code"}


def test_the_same_chief_confirming_twice_is_a_no_op(cast, unverified_in_a):
    first = services.person_confirm_address_code(person_id=unverified_in_a.pk, by=cast.checker_ben)
    again = services.person_confirm_address_code(person_id=unverified_in_a.pk, by=cast.checker_ben)
    assert again.address_code_confirmed_at == first.address_code_confirmed_at


def test_another_chief_cannot_confirm_a_code_already_confirmed(cast, unverified_in_a):
    services.person_confirm_address_code(person_id=unverified_in_a.pk, by=cast.checker_ben)
    chief_2 = UserFactory(username="chief_two", roles=[Role.SECTION_CHIEF], townships=[cast.township_a])
    with pytest.raises(InvalidState, match="not awaiting confirmation") as refused:
        services.person_confirm_address_code(person_id=unverified_in_a.pk, by=chief_2)
    assert refused.value.details["address_code_confirmed_by"] == cast.checker_ben.pk


@pytest.mark.parametrize("actor", ["maker_ann", "auditor_gus", "leader_hua"])
def test_only_a_section_chief_confirms(cast, unverified_in_a, actor):
    with pytest.raises(NotPermitted):
        services.person_confirm_address_code(person_id=unverified_in_a.pk, by=getattr(cast, actor))


def test_a_chief_of_another_township_cannot_confirm(cast, unverified_in_a):
    chief_b = UserFactory(username="chief_in_b", roles=[Role.SECTION_CHIEF], townships=[cast.township_b])
    with pytest.raises(NotVisible):
        services.person_confirm_address_code(person_id=unverified_in_a.pk, by=chief_b)


class TestPersonConfirmAddressCodeApi:
    def url(self, person: Person) -> str:
        return f"/api/persons/{person.pk}/confirm-address-code/"

    def test_a_section_chief_confirms(self, api, cast, unverified_in_a):
        response = api.as_user(cast.checker_ben).post(self.url(unverified_in_a))
        assert response.status_code == 200
        assert response.json()["address_code_unverified"] is False
        assert response.json()["address_code_confirmed_at"]

    def test_a_clerk_is_403(self, api, cast, unverified_in_a):
        assert api.as_user(cast.maker_ann).post(self.url(unverified_in_a)).status_code == 403
        unverified_in_a.refresh_from_db()
        assert unverified_in_a.address_code_unverified

    def test_another_townships_person_is_404(self, api, cast):
        unverified_in_b = PersonFactory(village=cast.village_b, address_code_unverified=True)
        assert api.as_user(cast.checker_ben).post(self.url(unverified_in_b)).status_code == 404

    def test_a_person_not_awaiting_confirmation_is_409_naming_them(self, api, cast, person_in_a):
        response = api.as_user(cast.checker_ben).post(self.url(person_in_a))
        assert response.status_code == 409
        assert response.json()["error"] == "invalid_state"
        assert response.json()["person_id"] == person_in_a.pk

    def test_constant_queries(self, api, cast, unverified_in_a, django_assert_max_num_queries):
        # permissions + township ids + locked read + context + update + the person read back (with prefetch)
        with django_assert_max_num_queries(12):
            api.as_user(cast.checker_ben).post(self.url(unverified_in_a))


def test_the_page_warns_and_offers_the_confirm_button_to_a_section_chief_only(client, cast, unverified_in_a):
    client.force_login(cast.maker_ann)
    html = client.get(f"/persons/{unverified_in_a.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "A section chief must confirm it" in html
    assert f"/persons/{unverified_in_a.pk}/confirm-address-code/" not in html
    client.force_login(cast.checker_ben)
    html = client.get(f"/persons/{unverified_in_a.pk}/").content.decode()
    assert f'hx-post="/persons/{unverified_in_a.pk}/confirm-address-code/"' in html


def test_a_section_chief_confirms_on_the_page_and_sees_who_confirmed(client, cast, unverified_in_a):
    client.force_login(cast.checker_ben)
    response = client.post(f"/persons/{unverified_in_a.pk}/confirm-address-code/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "checker_ben" in response.content.decode()
    assert "<html" not in response.content.decode()
    without_htmx = client.post(f"/persons/{unverified_in_a.pk}/confirm-address-code/")
    assert without_htmx.status_code == 302  # the same chief again: a no-op, back to the page


def test_a_clerk_confirming_on_the_page_is_refused(client, cast, unverified_in_a):
    client.force_login(cast.maker_ann)
    assert client.post(f"/persons/{unverified_in_a.pk}/confirm-address-code/").status_code == 403
