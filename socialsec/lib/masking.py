"""Masking of account-like numbers (bank accounts, social-security card numbers).

Framework-free. Only the last characters stay readable, enough for a clerk to match
a number a resident reads out; resident ID numbers have their own mask in resident_id.
"""

from __future__ import annotations

MASK_CHARACTER = "*"
VISIBLE_TAIL = 4


def mask_tail(value: str, *, keep: int = VISIBLE_TAIL) -> str:
    """`************1234`: every character but the last `keep`; all of them when the value is that short.

    A number of `keep` characters or fewer is masked completely, since showing its tail
    would show all of it. An empty value stays empty (nothing on file).
    """
    value = "".join(value.split())
    if not value:
        return ""
    if len(value) <= keep:
        return MASK_CHARACTER * len(value)
    return MASK_CHARACTER * (len(value) - keep) + value[-keep:]


def mask_bank_account(number: str) -> str:
    return mask_tail(number)


def mask_card_number(number: str) -> str:
    return mask_tail(number)
