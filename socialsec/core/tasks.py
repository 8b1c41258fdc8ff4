"""Cross-cutting background jobs."""

from __future__ import annotations

from celery import shared_task
from django.apps import apps
from django.db import connection


@shared_task
def analyze_tables(model_labels: list[str]) -> list[str]:
    """Refresh planner statistics after a bulk write ("app_label.Model" names, never raw SQL)."""
    tables = [apps.get_model(label)._meta.db_table for label in model_labels]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'ANALYZE "{table}"')
    return tables
