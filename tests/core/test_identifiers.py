"""Clerk-facing messages and the form validator for resident ID numbers (DOMAIN §6.1)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from socialsec.core import identifiers
from socialsec.core.identifiers import ResidentIdField, resident_id_error_message, validate_resident_id
from socialsec.lib.resident_id import ERROR_CODES, ResidentIdError, build_resident_id

# One input per refusal, each from DOMAIN §6.1 / E19 or the spreadsheet case.
REFUSED = {
    "empty": "  ",
    "bad_characters": "11010119900101004Y",
    "bad_length": "11010119900101004",
    "bad_checksum": "360426199101010072",  # E19
    "bad_birth_date": "110101199002300014",  # E19: 30 February
    "future_birth_date": "110101209912310015",  # E19
    "stored_as_number": "1.10101199001010e+17",
}


def test_every_error_code_has_an_input_here() -> None:
    assert set(REFUSED) == set(ERROR_CODES)


@pytest.mark.parametrize(("code", "raw"), sorted(REFUSED.items()))
def test_the_validator_raises_the_code_of_the_refusal(code: str, raw: str) -> None:
    # DOMAIN §6.1, E19
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        validate_resident_id(raw)
    assert caught.value.code == code


@pytest.mark.parametrize(("code", "raw"), sorted(REFUSED.items()))
def test_the_validator_raises_the_same_code_in_chinese(code: str, raw: str) -> None:
    # The zh-hans catalog may lag the English msgids; the code never depends on the language.
    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        validate_resident_id(raw)
    assert caught.value.code == code
    assert caught.value.messages[0]


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("bad_characters", "may contain only digits"),
        ("bad_length", "has 17 characters"),
        ("bad_checksum", "wrong check character"),
        ("bad_birth_date", "not contain a real birth date"),
        ("future_birth_date", "birth date in the future"),
        ("stored_as_number", "stored as a number"),
    ],
)
def test_each_message_names_the_number_and_what_is_wrong(code: str, words: str) -> None:
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        validate_resident_id(REFUSED[code])
    message = caught.value.messages[0]
    assert REFUSED[code].strip() in message
    assert words in message


def test_an_empty_number_asks_for_one() -> None:
    with translation.override("en"):
        assert resident_id_error_message(ResidentIdError("empty", "")) == "Enter the resident ID number."


def test_every_code_gets_its_own_message() -> None:
    with translation.override("en"):
        messages = {resident_id_error_message(ResidentIdError(code, "X")) for code in ERROR_CODES}
    assert len(messages) == len(ERROR_CODES)


@pytest.mark.parametrize("code", ERROR_CODES)
def test_clerks_read_each_message_in_chinese(code: str) -> None:
    # LANGUAGE_CODE is zh-hans: the catalog in locale/zh_Hans must cover every refusal.
    error = ResidentIdError(code, "360426199101010072")
    with translation.override("en"):
        english = resident_id_error_message(error)
    with translation.override("zh-hans"):
        chinese = resident_id_error_message(error)

    assert chinese != english
    assert code == "empty" or "360426199101010072" in chinese


def test_every_message_goes_through_the_translation_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    # Stands in for a catalog: each message must come from gettext, not be built around it.
    monkeypatch.setattr(identifiers, "gettext", lambda msgid: f"[zh] {msgid}")
    for code in ERROR_CODES:
        assert resident_id_error_message(ResidentIdError(code, "123")).startswith("[zh] ")


def test_a_valid_number_passes_the_validator() -> None:
    validate_resident_id("11010119900101004X")  # E19
    validate_resident_id("110105491231002")  # E19: converted, so valid


def test_tomorrow_in_the_county_is_the_future() -> None:
    # DOMAIN §6.1 gap 1: "today" is the county's date (Asia/Shanghai), not the server's.
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        validate_resident_id(build_resident_id("110101", tomorrow, 1))
    assert caught.value.code == "future_birth_date"
    validate_resident_id(build_resident_id("110101", timezone.localdate(), 1))


class PersonForm(forms.Form):
    id_number = ResidentIdField()


def test_the_form_field_cleans_to_the_18_character_number() -> None:
    # DOMAIN §6.1 gap 2, E19: a legacy number is stored converted.
    form = PersonForm(data={"id_number": " 110105 491231 002 "})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["id_number"] == "11010519491231002X"


def test_the_form_field_reports_the_clerk_message_under_its_code() -> None:
    with translation.override("en"):
        form = PersonForm(data={"id_number": "360426199101010072"})
        assert not form.is_valid()
    assert form.errors.as_data()["id_number"][0].code == "bad_checksum"
    assert "wrong check character" in form.errors["id_number"][0]


def test_the_form_field_is_required_by_default() -> None:
    with translation.override("en"):
        form = PersonForm(data={"id_number": ""})
        assert not form.is_valid()
        assert form.errors["id_number"] == ["Enter the resident ID number."]


class TestCreditCodeMessages:
    """DOMAIN §6.2, E20: refusals a clerk can act on, in the user's language."""

    @pytest.mark.parametrize(
        ("raw", "code"),
        [
            ("", "empty"),
            ("9111", "bad_length"),
            ("9111000060003734IL", "bad_characters"),
            ("B1110000600037341L", "bad_authority"),
            ("94110000600037341L", "bad_entity_type"),
            ("91110000600037341M", "bad_checksum"),
        ],
    )
    def test_each_refusal_names_the_code_in_english_and_chinese(self, raw, code):
        from django.core.exceptions import ValidationError
        from django.utils import translation

        from socialsec.core.identifiers import validate_credit_code

        texts = {}
        for language in ("en", "zh-hans"):
            with translation.override(language), pytest.raises(ValidationError) as error:
                validate_credit_code(raw)
            assert error.value.code == code
            texts[language] = error.value.messages[0]
            if raw:
                assert raw in texts[language]
        assert texts["en"] != texts["zh-hans"]

    def test_a_village_collective_code_passes_the_validator(self):
        from socialsec.core.identifiers import validate_credit_code

        validate_credit_code("N2371083MF00000018")  # E20: python-stdnum refuses it; we accept it
