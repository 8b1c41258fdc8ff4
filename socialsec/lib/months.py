"""Payout months (DOMAIN §0.4): written YYYY-MM, stored as the month's first day. Framework-free."""

from __future__ import annotations

import datetime as dt


def parse_month(text: str) -> dt.date | None:
    """The first day of the month `text` names as YYYY-MM (spaces around it ignored), else None."""
    try:
        return dt.datetime.strptime(str(text).strip(), "%Y-%m").date()
    except ValueError:
        return None
