"""Fixtures of the import tests: files on disk, persons to import, a county-wide clerk.

The roles' import permissions come from socialsec/core/roles.py (clerks upload, confirm and
cancel; section chiefs and auditors read); `test_roles_hold_the_import_permissions` checks them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from socialsec.core.choices import Role
from tests.factories import PersonFactory, UserFactory


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def api_urls() -> None:
    """The import API is part of the project's URLconf (kept so tests can still ask for it)."""


@pytest.fixture
def county_clerk_kim(cast):
    return UserFactory(username="county_clerk_kim", roles=[Role.CLERK], county_wide=True)


@pytest.fixture
def persons_in_a(cast):
    """Five living persons of Township A, born 1960-03-15."""
    return [PersonFactory(village=cast.village_a, name=f"李{index}") for index in range(5)]


@pytest.fixture
def files(tmp_path: Path):
    from tests.imports.files import FileMaker

    return FileMaker(tmp_path / "files")


DEATH = dt.date(2024, 3, 5)
