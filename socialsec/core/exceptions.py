"""Domain exceptions, and the one table that maps them to HTTP statuses.

Services raise these and never an HTTP error; the DRF exception handler
(socialsec.core.api) and the page middleware (socialsec.core.middleware) both
read HTTP_STATUS, so the API and the clerk pages answer the same way.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A refusal with a message a clerk can act on and details a machine can read."""

    code = "invalid"
    default_message = _("The request could not be carried out.")

    def __init__(self, message: Any = None, **details: Any) -> None:
        self.message = message if message is not None else self.default_message
        self.details = details
        super().__init__(str(self.message))


class InvalidInput(DomainError):
    code = "invalid_input"
    default_message = _("The input is not valid.")


class NotVisible(DomainError):
    """Missing, or in a township the user does not work for: the same answer for both."""

    code = "not_found"
    default_message = _("Not found.")


class NotPermitted(DomainError):
    code = "forbidden"
    default_message = _("Your role does not allow this.")


class SegregationOfDutiesViolation(NotPermitted):
    code = "segregation_of_duties"
    default_message = _("The same person may not take two incompatible steps.")


class InvalidState(DomainError):
    code = "invalid_state"
    default_message = _("This is not possible in the record's current state.")


HTTP_STATUS: dict[type[DomainError], int] = {
    InvalidInput: 400,
    NotPermitted: 403,
    SegregationOfDutiesViolation: 403,
    NotVisible: 404,
    InvalidState: 409,
}


def http_status(error: DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 400


def error_body(error: DomainError) -> dict[str, Any]:
    return {"error": error.code, "detail": str(error.message), **error.details}
