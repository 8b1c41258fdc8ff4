"""The database itself refuses an impossible resident ID (DOMAIN §6.1, E19), whatever writes it."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from enrollment.models import Person
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def _raw_set_id_number(person: Person, number: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE enrollment_person SET id_number = %s WHERE id = %s", [number, person.pk])


def test_a_raw_write_of_a_wrong_check_character_is_refused(cast, person_in_a):
    wrong = person_in_a.id_number[:17] + ("0" if person_in_a.id_number[17] != "0" else "1")
    with pytest.raises(IntegrityError, match="person_id_number_checksum"), transaction.atomic():
        _raw_set_id_number(person_in_a, wrong)


def test_e19_the_invalid_checksum_example_is_refused_by_the_database(cast, person_in_a):
    with pytest.raises(IntegrityError, match="person_id_number_checksum"), transaction.atomic():
        _raw_set_id_number(person_in_a, "360426199101010072")  # E19: InvalidChecksum


def test_a_malformed_number_fails_a_check_not_a_cast(cast, person_in_a):
    with pytest.raises(IntegrityError, match="person_id_number"), transaction.atomic():
        _raw_set_id_number(person_in_a, "11010119900101X04X")


def test_e19_a_valid_number_with_an_x_check_character_is_accepted(cast):
    person = PersonFactory(village=cast.village_a)
    _raw_set_id_number(person, "11010119900101004X")  # E19: valid, female
    person.refresh_from_db()
    assert person.id_number == "11010119900101004X"


def test_one_person_per_id_number(cast, person_in_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        PersonFactory(village=cast.village_b, id_number=person_in_a.id_number)


def test_model_validation_reports_a_wrong_check_character_before_saving(cast):
    from django.core.exceptions import ValidationError

    person = PersonFactory.build(
        village=cast.village_a, township=cast.township_a, id_number="360426199101010072"
    )
    with pytest.raises(ValidationError, match="person_id_number_checksum"):
        person.full_clean()


def test_the_person_table_keeps_only_the_indexes_its_queries_use():
    # Every non-HOT update of a person writes each of these; the audit events add three more.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'enrollment_person'::regclass"
        )
        person_indexes = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT count(*) FROM pg_index WHERE indrelid = 'enrollment_personevent'::regclass")
        (event_indexes,) = cursor.fetchone()
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'enrollment_person'")
        (options,) = cursor.fetchone()
    assert not any(name.endswith("_like") for name in person_indexes)
    assert "person_township_id" in person_indexes and "person_id_number_unique" in person_indexes
    # person_dead: the dead only (under 2 %), for the monthly sweep's stop on death.
    assert "person_dead" in person_indexes
    assert len(person_indexes) == 9, sorted(person_indexes)
    assert event_indexes == 3  # pkey, pgh_obj, pgh_context
    assert options == ["fillfactor=90"]  # room for HOT updates of unindexed columns
