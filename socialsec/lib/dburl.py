"""Turn Django's database settings back into a URL, for child processes (gunicorn, tests)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote


def database_url(db: dict[str, Any], *, name: str | None = None) -> str:
    """A postgresql:// URL for these settings; a unix-socket HOST is percent-encoded."""
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or ""
    host = quote(host, safe="") if host.startswith("/") else host
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgresql://{credentials}{host}{port}/{quote(name or db['NAME'], safe='')}"
