"""Resident IDs and credit codes on the Django side: clerk-facing messages, validators, a form field.

The rules live in socialsec.lib.resident_id (DOMAIN §6.1) and socialsec.lib.credit_code (§6.2);
this module only says what went wrong in words a clerk can act on, in the user's language.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from socialsec.lib.credit_code import CreditCodeError, parse_credit_code
from socialsec.lib.resident_id import ResidentId, ResidentIdError, parse_resident_id


def resident_id_error_message(error: ResidentIdError) -> str:
    """One translated sentence per error code, naming the number and what to check."""
    params = {"value": error.value, "length": len(error.value)}
    if error.code == "empty":
        return gettext("Enter the resident ID number.")
    if error.code == "bad_characters":
        message = gettext(
            "The ID number %(value)s may contain only digits, with an X as the last character. "
            "Copy it again from the ID card."
        )
    elif error.code == "bad_length":
        message = gettext(
            "The ID number %(value)s has %(length)s characters. "
            "It must have 18 (or 15 for an ID card issued before 1999)."
        )
    elif error.code == "bad_checksum":
        message = gettext(
            "The ID number %(value)s has a wrong check character. "
            "One of its digits is probably mistyped: compare each digit with the ID card."
        )
    elif error.code == "bad_birth_date":
        message = gettext(
            "The ID number %(value)s does not contain a real birth date (digits 7 to 14 are YYYYMMDD). "
            "Compare it with the ID card."
        )
    elif error.code == "future_birth_date":
        message = gettext(
            "The ID number %(value)s gives a birth date in the future. "
            "Check the year digits against the ID card."
        )
    elif error.code == "stored_as_number":
        message = gettext(
            "The ID number %(value)s was stored as a number, so its last digits are lost "
            "(spreadsheets do this). Format the column as text and type the number again from the ID card."
        )
    else:  # a code added to lib without a message here still gives the clerk something to go on
        message = gettext("The ID number %(value)s is not valid.")
    return message % params


def _parse(value: str) -> ResidentId:
    try:
        # The county's calendar date, not the server's (containers run in UTC).
        return parse_resident_id(value, today=timezone.localdate())
    except ResidentIdError as error:
        raise ValidationError(resident_id_error_message(error), code=error.code) from error


def validate_resident_id(value: str) -> None:
    """Django validator: ValidationError with the clerk message, its code the ResidentIdError code."""
    _parse(value)


class ResidentIdField(forms.CharField):
    """Cleans to the 18-character number: normalized, and converted when a 15-digit one was entered.

    Whether the address code needs a human to confirm it is not a form error; services
    call parse_resident_id themselves and read `needs_review` (DOMAIN §6.1 gap 4).
    """

    default_error_messages = {"required": _("Enter the resident ID number.")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 40)  # room for pasted spaces; the clean value is 18
        kwargs.setdefault("label", _("Resident ID number"))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        if text in self.empty_values:
            return text
        return _parse(text).number


def credit_code_error_message(error: CreditCodeError) -> str:
    """One translated sentence per unified-social-credit-code error (DOMAIN §6.2)."""
    messages = {
        "empty": gettext("Enter the unified social credit code."),
        "bad_length": gettext("The credit code %(value)s has %(length)s characters; it must have 18."),
        "bad_characters": gettext(
            "The credit code %(value)s contains characters a credit code never has (the letters I, O, S, V "
            "and Z are not used, and characters 3 to 8 are digits). Copy it again from the business licence."
        ),
        "bad_authority": gettext(
            "The credit code %(value)s starts with an unknown registration authority. "
            "Check its first character."
        ),
        "bad_entity_type": gettext(
            "In the credit code %(value)s, the second character does not fit the registration authority. "
            "Check the first two characters."
        ),
        "bad_checksum": gettext(
            "The credit code %(value)s has a wrong check character. One character is probably mistyped: "
            "compare each one with the business licence."
        ),
    }
    message = messages.get(error.code, gettext("The credit code %(value)s is not valid."))
    return message % {"value": error.value, "length": len(error.value)}


def validate_credit_code(value: str) -> None:
    """Django validator: ValidationError with the clerk message, its code the CreditCodeError code."""
    try:
        parse_credit_code(value)
    except CreditCodeError as error:
        raise ValidationError(credit_code_error_message(error), code=error.code) from error
