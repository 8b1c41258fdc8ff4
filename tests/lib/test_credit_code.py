"""The unified social credit code wrapper: DOMAIN §6.2 and worked example E20."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import uscc

from socialsec.lib.credit_code import ALPHABET, CreditCodeError, check_character, parse_credit_code


def test_e20_an_ordinary_enterprise_code_is_valid():
    code = parse_credit_code("91110000600037341L")
    assert (code.registration_authority, code.entity_type) == ("9", "1")  # 工商, enterprise
    assert code.division_code == "110000"
    assert code.organization_code == "600037341"
    assert code.warnings == ()  # DOMAIN §6.2: 600037341 satisfies GB 11714


def test_e20_a_wrong_check_character_is_refused():
    with pytest.raises(CreditCodeError) as error:
        parse_credit_code("91110000600037341M")
    assert error.value.code == "bad_checksum"


def test_e20_a_farmers_cooperative_is_valid():
    code = parse_credit_code("93371083MA00000018")
    assert (code.registration_authority, code.entity_type, code.division_code) == ("9", "3", "371083")


def test_e20_a_village_collective_that_python_stdnum_refuses_is_accepted():
    assert not uscc.is_valid("N2371083MF00000018")  # the gap this wrapper exists for
    code = parse_credit_code("N2371083MF00000018")
    assert (code.registration_authority, code.entity_type) == ("N", "2")  # village-level collective


def test_y_prefixed_codes_are_accepted_only_with_entity_type_1():
    first17 = "Y1371083MA0000001"
    assert parse_credit_code(first17 + check_character(first17)).registration_authority == "Y"
    first17 = "Y2371083MA0000001"
    with pytest.raises(CreditCodeError) as error:
        parse_credit_code(first17 + check_character(first17))
    assert error.value.code == "bad_entity_type"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("91110000600037341", "bad_length"),
        ("91110000600037341LL", "bad_length"),
        ("9111000060003734IL", "bad_characters"),  # I is not in the alphabet
        ("9111000060003734OL", "bad_characters"),  # nor O
        ("B1110000600037341L", "bad_authority"),
        ("94110000600037341L", "bad_entity_type"),  # under 9 only 1, 2, 3
        ("91AB0000600037341L", "bad_characters"),  # positions 3-8 are a division code
    ],
)
def test_malformed_codes_are_refused_with_a_reason(raw, reason):
    with pytest.raises(CreditCodeError) as error:
        parse_credit_code(raw)
    assert error.value.code == reason


def test_full_width_and_lower_case_input_is_normalized():
    assert parse_credit_code("９１１１００００６０００３７３４１ｌ").code == "91110000600037341L"
    assert parse_credit_code(" 91110000600037341l ").code == "91110000600037341L"


def test_an_inconsistent_organization_code_is_a_warning_not_a_refusal():
    first17 = "91110000600037342"  # position 17 no longer checks positions 9-16
    code = parse_credit_code(first17 + check_character(first17))
    assert code.warnings == ("organization_code_check",)


digits_first = st.text(alphabet="0123456789", min_size=8, max_size=8)
org_part = st.text(alphabet=ALPHABET, min_size=9, max_size=9)


@given(prefix=digits_first, rest=org_part)
def test_the_check_character_agrees_with_python_stdnum_where_stdnum_accepts_the_format(prefix, rest):
    first17 = prefix + rest
    code = first17 + check_character(first17)
    assert uscc.is_valid(code)
    assert not uscc.is_valid(first17 + ALPHABET[(ALPHABET.index(code[-1]) + 1) % 31])
