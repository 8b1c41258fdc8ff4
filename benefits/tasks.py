"""Celery tasks of the benefits: adapters that call one service each.

The roster exports are registered here because socialsec.rosters is not an app.
"""

from __future__ import annotations

from celery import shared_task

from socialsec.rosters.exports import export_roster_xlsx_task  # noqa: F401


@shared_task(acks_late=True, reject_on_worker_lost=True)
def monthly_sweep(run_id: int | None = None, month: str | None = None) -> dict[str, int] | str:
    """Run or resume a monthly sweep (benefits.sweep_services). Beat calls it with no arguments on
    the 1st: the month is then the current one in the county's time zone.

    Acknowledged only at the end and requeued when its worker dies, so a killed run resumes;
    a second delivery while the first still runs finds the month's lock taken and leaves.
    """
    from benefits import sweep_services

    if run_id is None:
        day = sweep_services.parse_sweep_month(month)
        run_id = sweep_services.sweep_start(month=day, by=None, schedule=False).pk
    try:
        run = sweep_services.sweep_run(run_id)
    except sweep_services.SweepBusy:
        return "busy"
    return dict(run.counts)
