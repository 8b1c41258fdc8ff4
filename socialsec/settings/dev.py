"""Local development and the demo (`make run`): DEBUG on unless told otherwise."""

import secrets
from pathlib import Path

from socialsec.lib.envconf import env_bool, env_str
from socialsec.settings.base import *  # noqa: F403
from socialsec.settings.base import VAR_DIR

DEBUG = env_bool("DEBUG", True)


def _dev_secret_key(path: Path) -> str:
    # A random key kept under var/, so sessions survive restarts without a key in the repo.
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env_str("SECRET_KEY") or _dev_secret_key(VAR_DIR / "dev_secret_key")
