"""Typed readers for settings taken from the environment.

A bad or missing value stops start-up with one line naming the variable, so an
operator never has to read a traceback to find a typo in an env file.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingError(SystemExit):
    """Raised for a bad setting; a SystemExit so no caller turns it into a traceback."""


def fail(name: str, reason: str) -> NoReturn:
    message = f"socialsec: configuration error: {name}: {reason}"
    print(message, file=sys.stderr)
    raise SettingError(2)


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str | None:
    value = os.environ.get(name)
    if value is None or value == "":
        file_name = os.environ.get(f"{name}_FILE")
        if file_name:
            try:
                value = Path(file_name).read_text(encoding="utf-8").strip()
            except OSError as exc:
                fail(f"{name}_FILE", f"cannot read {file_name!r} ({exc.strerror})")
    if value is None or value == "":
        if required:
            fail(name, "is required but not set")
        return default
    return value


def env_secret(name: str, *, min_length: int = 50) -> str:
    value = env_str(name, required=True)
    assert value is not None
    if len(value) < min_length or len(set(value)) < 5:
        fail(name, f"must be at least {min_length} characters of random text")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    fail(name, f"expected true/false (1/0, yes/no), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        fail(name, f"expected a whole number, got {raw!r}")
    if minimum is not None and value < minimum:
        fail(name, f"must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]
