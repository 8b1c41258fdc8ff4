"""Celery adapters of the import pipeline: ids in, one service call, safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task
def import_validate(batch_id: int) -> None:
    from socialsec.imports import services  # services import this module

    services.import_validate(batch_id=batch_id)


@shared_task
def import_commit(batch_id: int) -> None:
    from socialsec.imports import services

    services.import_commit(batch_id=batch_id)
