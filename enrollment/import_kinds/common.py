"""Helpers shared by the registry's import kinds."""

from __future__ import annotations

from typing import Any

import pandas as pd
from django.db import connection


def persons_by_id_number(numbers: list[str], township_id: int | None) -> pd.DataFrame:
    """id, name, birth and death dates of these ID numbers (in the township, if one), indexed by number."""
    columns = ["id_number", "id", "name", "birth_date", "death_date"]
    if not numbers:
        return pd.DataFrame(columns=columns).set_index("id_number")
    # Dates as day numbers: building 100,000 Python date objects costs more than the query.
    # The numbers go as one comma-separated text (they hold only digits and X): a 100,000-element
    # array literal costs twice as much to build and parse. PostgreSQL sizes the unnest from the
    # constant, so a short list walks the unique index and a long one hash-joins.
    sql = (
        "SELECT p.id_number, p.id, p.name, p.birth_date - date '1970-01-01', p.death_date - date '1970-01-01'"
        " FROM enrollment_person p JOIN unnest(string_to_array(%s, ',')) AS wanted(id_number)"
        " ON p.id_number = wanted.id_number"
    )
    params: list[Any] = [",".join(numbers)]
    if township_id is not None:
        sql += " WHERE p.township_id = %s"
        params.append(township_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = pd.DataFrame(cursor.fetchall(), columns=columns)
    for column in ("birth_date", "death_date"):
        days = pd.to_numeric(found[column], errors="coerce").astype("Float64")
        found[column] = pd.to_datetime(days.astype("float64"), unit="D", origin="unix")
    return found.set_index("id_number")
