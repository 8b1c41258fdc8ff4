"""The unified social credit code (统一社会信用代码, GB 32100-2015), over python-stdnum's `stdnum.cn.uscc`.

python-stdnum requires positions 1-8 to be digits, so it refuses every code of a village
collective (N2…), and every Y- or A-prefixed code. This wrapper accepts those (DOMAIN §6.2):
it checks the alphabet, the registration authority and entity type of positions 1-2, and
recomputes the position-18 check character itself. The embedded GB 11714 organization-code
check digit (position 17) is reported as a warning only; whether every post-2015 code
satisfies it is unconfirmed.

Framework-free: `socialsec.core.identifiers` turns the error codes into messages for clerks.
"""

from __future__ import annotations

from dataclasses import dataclass

# 31 symbols: 0-9 and A-Z without I, O, S, V, Z.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# Position 1 → the entity types position 2 may take. The authorities DOMAIN §6.2 gives no
# table for (2, 3, 4, 6, 7, 8, A) accept any non-zero digit: unconfirmed, kept permissive.
_ANY_TYPE = frozenset("123456789")
ENTITY_TYPES: dict[str, frozenset[str]] = {
    "1": frozenset("1239"),  # 机构编制: agency, public institution, mass organisation, other
    "5": frozenset("1239"),  # 民政: social organisation, private non-enterprise, foundation, other
    "9": frozenset("123"),  # 工商: enterprise, individual business, farmers' co-operative
    "N": frozenset("1239"),  # 农业: group-, village-, township-level collective, other
    "Y": frozenset("1"),  # 其他
    **{authority: _ANY_TYPE for authority in "234678A"},
}

ERROR_CODES = ("empty", "bad_length", "bad_characters", "bad_authority", "bad_entity_type", "bad_checksum")


class CreditCodeError(ValueError):
    """Why a credit code was refused: `code` is one of ERROR_CODES, `value` the normalized input."""

    def __init__(self, code: str, value: str) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown credit code error code {code!r}")
        self.code = code
        self.value = value
        super().__init__(f"{code}: {value!r}")


@dataclass(frozen=True)
class CreditCode:
    code: str
    registration_authority: str
    entity_type: str
    division_code: str
    organization_code: str
    # "organization_code_check": position 17 does not satisfy GB 11714 (a warning, not a refusal).
    warnings: tuple[str, ...] = ()


def normalize(raw: str) -> str:
    """Upper case, no spaces (full-width ones included), full-width letters and digits to ASCII."""
    text = "".join(str(raw).split())
    return "".join(chr(ord(c) - 0xFEE0) if "\uff01" <= c <= "\uff5e" else c for c in text).upper()


def check_character(first17: str) -> str:
    """Position 18: alphabet[(31 - Σ index × weight mod 31) mod 31] (DOMAIN §6.2)."""
    total = sum(ALPHABET.index(char) * weight for char, weight in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def organization_code_is_consistent(organization_code: str) -> bool:
    """GB 11714: the 9th character checks the first 8 (digits 0-9, letters A=10 … Z=35)."""
    values = [int(char, 36) for char in organization_code[:8]]
    remainder = 11 - sum(v * w for v, w in zip(values, _ORG_WEIGHTS, strict=True)) % 11
    expected = {10: "X", 11: "0"}.get(remainder, str(remainder))
    return organization_code[8] == expected


def parse_credit_code(raw: str | None) -> CreditCode:
    code = normalize(raw or "")
    if not code:
        raise CreditCodeError("empty", code)
    if len(code) != 18:
        raise CreditCodeError("bad_length", code)
    if any(char not in ALPHABET for char in code):
        raise CreditCodeError("bad_characters", code)
    authority, entity_type = code[0], code[1]
    if authority not in ENTITY_TYPES:
        raise CreditCodeError("bad_authority", code)
    if entity_type not in ENTITY_TYPES[authority]:
        raise CreditCodeError("bad_entity_type", code)
    if not code[2:8].isdigit():
        raise CreditCodeError("bad_characters", code)
    if check_character(code[:17]) != code[17]:
        raise CreditCodeError("bad_checksum", code)
    warnings = () if organization_code_is_consistent(code[8:17]) else ("organization_code_check",)
    return CreditCode(
        code=code,
        registration_authority=authority,
        entity_type=entity_type,
        division_code=code[2:8],
        organization_code=code[8:17],
        warnings=warnings,
    )
