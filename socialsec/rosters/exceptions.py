"""Refusals particular to rosters; the core table maps them (InvalidState → 409)."""

from django.utils.translation import gettext_lazy as _

from socialsec.core.exceptions import InvalidState


class RosterDigestMismatch(InvalidState):
    """The lines or totals are no longer those the digest was taken over at submit."""

    code = "digest_mismatch"
    default_message = _("The roster's lines no longer match the digest taken when it was submitted.")
