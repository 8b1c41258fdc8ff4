"""Celery tasks of the payout rosters, registered here because socialsec.rosters is not an app."""

from socialsec.rosters.exports import export_roster_xlsx_task  # noqa: F401
