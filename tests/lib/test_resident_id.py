"""The resident ID number wrapper: python-stdnum plus the gaps of DOMAIN §6.1."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidLength

from socialsec.lib.resident_id import (
    ResidentIdError,
    build_resident_id,
    check_character,
    mask_resident_id,
    normalize,
    parse_resident_id,
)

TODAY = date(2026, 1, 15)

# Built, not typed: ruff flags literal full-width characters as look-alikes.
_FULL_WIDTH = str.maketrans("0123456789Xx", "".join(chr(0xFF10 + d) for d in range(10)) + "\uff38\uff58")


def full_width(text: str) -> str:
    return text.translate(_FULL_WIDTH)


def refusal(raw: str | int | float | None, *, today: date = TODAY) -> str:
    with pytest.raises(ResidentIdError) as caught:
        parse_resident_id(raw, today=today)
    return caught.value.code


# --- E19, one test per row ---------------------------------------------------------------


def test_e19_valid_number_is_a_woman_born_on_new_years_day_1990_in_dongcheng() -> None:
    # DOMAIN §6.1, E19: sequence 004 is even, so female; 110101 is 北京市东城区.
    resident = parse_resident_id("11010119900101004X", today=TODAY)

    assert resident.number == "11010119900101004X"
    assert resident.birth_date == date(1990, 1, 1)
    assert resident.sex == "female"
    assert resident.address_code == "110101"
    assert ric.get_birth_place(resident.number)["county"] == "东城区"
    assert resident.needs_review is False
    assert resident.converted_from is None


def test_e19_number_with_a_wrong_check_character_is_rejected() -> None:
    # DOMAIN §6.1, E19
    assert refusal("360426199101010072") == "bad_checksum"


def test_e19_thirtieth_of_february_is_rejected() -> None:
    # DOMAIN §6.1, E19
    assert refusal("110101199002300014") == "bad_birth_date"


def test_e19_future_birth_date_is_rejected_although_stdnum_accepts_it() -> None:
    # DOMAIN §6.1 gap 1, E19
    assert ric.is_valid("110101209912310015")
    assert refusal("110101209912310015") == "future_birth_date"


def test_e19_fifteen_digit_legacy_number_is_converted_to_eighteen() -> None:
    # DOMAIN §6.1 gap 2, E19: insert 19 before the year, then compute the check character.
    resident = parse_resident_id("110105491231002", today=TODAY)

    assert resident.number == "11010519491231002X"
    assert resident.converted_from == "110105491231002"
    assert resident.birth_date == date(1949, 12, 31)
    assert resident.sex == "female"
    assert ric.is_valid(resident.number)


def test_e19_unknown_address_code_is_accepted_for_manual_review() -> None:
    # DOMAIN §6.1 gap 4, E19: a warning for a human, not a rejection.
    resident = parse_resident_id("990101199001010019", today=TODAY)

    assert resident.needs_review is True
    assert resident.address_code == "990101"
    assert resident.birth_date == date(1990, 1, 1)
    assert resident.sex == "male"


@pytest.mark.parametrize(
    ("number", "stdnum_error"),
    [
        ("11010119900101004X", None),
        ("360426199101010072", InvalidChecksum),
        ("110101199002300014", InvalidComponent),
        ("110101209912310015", None),
        ("110105491231002", InvalidLength),
        ("990101199001010019", InvalidComponent),
    ],
)
def test_e19_python_stdnum_still_behaves_as_the_domain_records(
    number: str, stdnum_error: type | None
) -> None:
    # DOMAIN §6.1, E19: the wrapper's gaps are sized for python-stdnum 2.2; an upgrade that changes
    # these answers should be noticed here.
    if stdnum_error is None:
        assert ric.validate(number) == number
    else:
        with pytest.raises(stdnum_error):
            ric.validate(number)


# --- Input as clerks type, paste and import it ------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "11010119900101004x",  # lower-case x
        full_width("11010119900101004X"),  # as a Chinese input method types it
        full_width("11010119900101004x"),  # full-width lower-case x
        "  110101 19900101 004X\n",  # spaces as on the printed card, and a pasted newline
        "110101\u300019900101\u3000004X",  # full-width (ideographic) spaces
        "\t11010119900101004X\u00a0",  # tab and no-break space from a spreadsheet
    ],
)
def test_typed_and_pasted_variants_normalize_to_the_same_number(raw: str) -> None:
    # DOMAIN §6.1
    assert normalize(raw) == "11010119900101004X"
    assert parse_resident_id(raw, today=TODAY).number == "11010119900101004X"


@pytest.mark.parametrize("raw", ["", "   ", "\u3000"])
def test_nothing_but_spaces_is_empty(raw: str) -> None:
    assert refusal(raw) == "empty"


@pytest.mark.parametrize(
    "raw",
    [
        "11010119900101004Y",
        "1101011990-0101004X",
        "11010X199001010040",  # X only as the check character
        "11010519491231X",  # a 15-digit number has no check character at all
        "身份证11010119900101004X",
    ],
)
def test_letters_or_punctuation_are_bad_characters(raw: str) -> None:
    assert refusal(raw) == "bad_characters"


@pytest.mark.parametrize("raw", ["1101011990010100", "11010119900101004", "1101011990010100400", "5"])
def test_numbers_of_neither_15_nor_18_characters_have_a_bad_length(raw: str) -> None:
    assert refusal(raw) == "bad_length"


@pytest.mark.parametrize(
    "raw",
    [
        "1.10101199001010e+17",  # how Excel and pandas print an 18-digit number
        "1.10101E+17",  # Excel's General format
        "110101199001010000",  # Excel's Number format: 15 significant digits, padded with 000
        "110101199001010000.0",  # a float written back to text
    ],
)
def test_a_number_a_spreadsheet_stored_as_a_number_is_recognised(raw: str) -> None:
    # DOMAIN §6.1: the lost digits cannot be recovered, so the clerk re-enters them from the card.
    assert refusal(raw) == "stored_as_number"


def test_spreadsheet_cells_read_as_numbers_are_judged_by_their_type() -> None:
    # A float cannot hold 18 digits; an int (read from text) is exact; an empty cell reads as NaN.
    assert refusal(1.10101199001010e17) == "stored_as_number"
    assert parse_resident_id(110105491231002, today=TODAY).number == "11010519491231002X"
    assert refusal(float("nan")) == "empty"
    assert refusal(None) == "empty"


def test_a_real_number_ending_in_000_is_not_mistaken_for_a_spreadsheet_number() -> None:
    # DOMAIN §6.1: sequence 100 with check character 0; the checksum tells the two apart.
    assert parse_resident_id("110101199001031000", today=TODAY).sex == "female"


def test_a_fifteen_digit_number_keeps_its_sex_digit_after_conversion() -> None:
    # DOMAIN §6.1: the last legacy digit becomes digit 17.
    resident = parse_resident_id("110105491231001", today=TODAY)
    assert resident.number == "110105194912310011"
    assert resident.sex == "male"


# --- Birth dates ---------------------------------------------------------------------------------


def test_someone_born_today_is_accepted_and_tomorrow_is_the_future() -> None:
    # DOMAIN §6.1 gap 1, with an explicit `today` so the test never depends on the clock.
    born_today = build_resident_id("110101", TODAY, 1)
    born_tomorrow = build_resident_id("110101", TODAY + timedelta(days=1), 1)

    assert parse_resident_id(born_today, today=TODAY).birth_date == TODAY
    assert refusal(born_tomorrow) == "future_birth_date"


def test_the_future_is_judged_against_the_given_today() -> None:
    number = build_resident_id("110101", date(2025, 6, 1), 1)

    assert refusal(number, today=date(2025, 5, 31)) == "future_birth_date"
    assert parse_resident_id(number, today=date(2025, 6, 1)).birth_date == date(2025, 6, 1)


def test_a_birth_year_before_1850_is_a_bad_birth_date() -> None:
    # No one in the registry was born that early; such a year is a typo.
    assert refusal(build_resident_id("110101", date(1849, 12, 31), 1)) == "bad_birth_date"


def test_an_address_code_not_yet_valid_in_the_birth_year_needs_review() -> None:
    # DOMAIN §6.1 gap 4: 360102 (东湖区) dates from 1983; a 1980 birth there is for a human to confirm.
    born_after = build_resident_id("360102", date(1990, 5, 1), 11)
    born_before = build_resident_id("360102", date(1980, 5, 1), 11)

    assert parse_resident_id(born_after, today=TODAY).needs_review is False
    assert parse_resident_id(born_before, today=TODAY).needs_review is True


# --- Sex, check character, building ------------------------------------------------------------------


@pytest.mark.parametrize(("digit17", "sex"), [(str(d), "male" if d % 2 else "female") for d in range(10)])
def test_digit_17_odd_is_male_and_even_is_female(digit17: str, sex: str) -> None:
    # DOMAIN §6.1: the sequence number's parity gives the sex.
    number = build_resident_id("360121", date(1960, 3, 15), int(f"01{digit17}"))
    assert parse_resident_id(number, today=TODAY).sex == sex


def test_check_character_follows_iso_7064_mod_11_2() -> None:
    # DOMAIN §6.1: '10X98765432'[weighted sum % 11]
    assert check_character("11010119900101004") == "X"
    assert check_character("11010519491231002") == "X"
    assert check_character("36042619910101007") == "1"  # python-stdnum's own example


@pytest.mark.parametrize(
    "first17", ["1101011990010100", "110101199001010041", "1101011990010100X", full_width("1" * 17)]
)
def test_check_character_wants_exactly_17_ascii_digits(first17: str) -> None:
    with pytest.raises(ValueError, match="17 digits"):
        check_character(first17)


@pytest.mark.parametrize(
    ("address_code", "sequence", "match"),
    [
        ("11010", 1, "6 digits"),
        ("11010a", 1, "6 digits"),
        ("110101", -1, "0..999"),
        ("110101", 1000, "0..999"),
    ],
)
def test_build_refuses_a_bad_address_code_or_sequence(address_code: str, sequence: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build_resident_id(address_code, date(1990, 1, 1), sequence)


def test_build_zero_pads_the_sequence() -> None:
    assert build_resident_id("360121", date(1960, 3, 15), 1) == "36012119600315001X"
    assert build_resident_id("360121", date(1960, 3, 15), 0)[14:17] == "000"


@given(
    birth_date=st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)),
    sequence=st.integers(min_value=0, max_value=999),
)
def test_built_numbers_parse_back_to_their_birth_date_and_sex_and_stdnum_agrees(
    birth_date: date, sequence: int
) -> None:
    # DOMAIN §6.1: our MOD 11-2 and python-stdnum's must never disagree.
    number = build_resident_id("110101", birth_date, sequence)
    resident = parse_resident_id(number, today=TODAY)

    assert resident.number == number
    assert resident.birth_date == birth_date
    assert resident.sex == ("male" if sequence % 2 else "female")
    assert resident.needs_review is False
    assert ric.is_valid(number)
    assert ric.calc_check_digit(number) == number[-1]


# --- Masking ----------------------------------------------------------------------------------------------


def test_mask_keeps_the_address_code_and_the_last_four() -> None:
    assert mask_resident_id("360121196003150013") == "360121********0013"
    assert mask_resident_id("11010119900101004X") == "110101********004X"


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("", ""),
        ("5", "********"),
        ("12345678", "********"),  # nothing short is shown at all
        ("1234567890", "********90"),
        ("110105491231002", "110********1002"),  # 15 digits: still 8 hidden
        ("1101051949123100201234", "110105********1234"),
    ],
)
def test_mask_hides_at_least_eight_characters_of_odd_input(raw: str, masked: str) -> None:
    assert mask_resident_id(raw) == masked


@given(st.text(max_size=40))
def test_mask_never_shows_more_than_four_trailing_characters(raw: str) -> None:
    masked = mask_resident_id(raw)
    value = raw.strip()
    if value:
        # Some head of at most 6 and tail of at most 4 input characters around 8 asterisks, with at
        # least 8 input characters hidden. (The input may itself contain '*', so no partitioning.)
        shapes = [
            (head, tail)
            for head in range(7)
            for tail in range(5)
            if head + tail <= max(0, len(value) - 8)
            and masked == value[:head] + "*" * 8 + (value[-tail:] if tail else "")
        ]
        assert shapes, masked


def test_the_error_text_carries_the_masked_number_only() -> None:
    # The exception text reaches logs; the clerk message (socialsec.core.identifiers) shows the value.
    with pytest.raises(ResidentIdError) as caught:
        parse_resident_id("360426199101010072", today=TODAY)

    assert caught.value.value == "360426199101010072"
    assert "360426199101010072" not in str(caught.value)
    assert "360426********0072" in str(caught.value)


def test_a_resident_id_error_is_a_value_error() -> None:
    assert issubclass(ResidentIdError, ValueError)
