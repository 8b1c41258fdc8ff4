"""Level and kind from a 12-digit statistical division code (DOMAIN §6.3)."""

from __future__ import annotations

import pytest

from socialsec.core.choices import DivisionKind, DivisionLevel
from socialsec.lib.divisions import division_level_and_kind, is_valid_division_code

FULL_WIDTH_DIGITS = str.maketrans("0123456789", "".join(chr(0xFF10 + d) for d in range(10)))


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("220581102001", "residents_committee"),  # 九龙社区
        ("220581102200", "villagers_committee"),  # 春明村
        ("371083108201", "villagers_committee"),  # 午极村委会
        ("640323101001", "residents_committee"),  # 裕民居委会
        ("640323101200", "villagers_committee"),  # 大水坑村委会
        ("350322111201", "villagers_committee"),  # 游洋村委会
    ],
)
def test_the_domain_fixture_villages_get_their_committee_kind(code: str, kind: str) -> None:
    # DOMAIN §6.3 [S42]: village digits 001-199 residents', 200-399 villagers' committees.
    assert division_level_and_kind(code) == ("village", kind)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("360121001000", "street"),
        ("360121099000", "street"),
        ("360121100000", "town"),
        ("360121199000", "town"),
        ("360121200000", "township"),
        ("360121399000", "township"),
        ("360121400000", "government_enterprise"),
        ("360121599000", "government_enterprise"),
        ("360121600000", "other"),
    ],
)
def test_township_digits_give_street_town_township_or_government_enterprise(code: str, kind: str) -> None:
    # DOMAIN §6.3, GB/T 10114 bands.
    assert division_level_and_kind(code) == ("township", kind)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("360121000000", "county"),  # 南昌县
        ("360102000000", "city_district"),  # 东湖区
        ("360181000000", "county_level_city"),
        ("360118000000", "city_district"),
        ("360180000000", "county"),
        ("360119000000", "other"),  # 19 and 20 belong to no band
        ("360100000000", "other"),  # a prefecture's own code
    ],
)
def test_county_digits_give_city_district_county_or_county_level_city(code: str, kind: str) -> None:
    # DOMAIN §6.3, GB/T 2260 digits 5-6.
    assert division_level_and_kind(code) == ("county", kind)


@pytest.mark.parametrize("code", ["360121100400", "360121100599", "360121100600", "360121100999"])
def test_village_bands_from_400_are_other_while_unconfirmed(code: str) -> None:
    # DOMAIN §6.3 and §10 item 6: the 400-599 committee bands are unconfirmed.
    assert division_level_and_kind(code) == ("village", "other")


def test_levels_and_kinds_are_values_of_the_model_choices() -> None:
    codes = [
        "360121000000",
        "360102000000",
        "360181000000",
        "360119000000",
        "360121001000",
        "360121100000",
        "360121200000",
        "360121400000",
        "360121100001",
        "360121100200",
        "360121100400",
    ]
    for code in codes:
        level, kind = division_level_and_kind(code)
        assert level in DivisionLevel.values
        assert kind in DivisionKind.values


@pytest.mark.parametrize(
    "code",
    [
        "36012110000",
        "3601211000000",
        "36012110000X",
        "",
        " 360121100000",
        "360121100000".translate(FULL_WIDTH_DIGITS),
    ],
)
def test_anything_but_12_ascii_digits_is_refused(code: str) -> None:
    with pytest.raises(ValueError, match="12 digits"):
        division_level_and_kind(code)
    assert is_valid_division_code(code) is False


def test_a_village_under_no_township_is_refused() -> None:
    # DOMAIN §6.3: villages sit under townships; the model's check constraint agrees.
    with pytest.raises(ValueError, match="under no township"):
        division_level_and_kind("360121000201")
    assert is_valid_division_code("360121000201") is False


@pytest.mark.parametrize("code", ["360121000000", "360121100000", "360121100201", "220581102001"])
def test_county_township_and_village_codes_are_valid(code: str) -> None:
    assert is_valid_division_code(code) is True


def test_a_value_that_is_not_text_is_not_a_valid_code() -> None:
    assert is_valid_division_code(360121100000) is False  # type: ignore[arg-type]
