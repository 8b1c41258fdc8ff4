"""`make run` serves the app with a Celery worker and beat; Ctrl-C stops all of it (foundation issue)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from django.db import connection

from socialsec.lib.dburl import database_url

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_runstack_serves_web_worker_and_beat_and_ctrl_c_stops_them_all():
    port = free_port()
    db = connection.settings_dict
    # The stack runs against the test database, which is migrated (beat's scheduler needs its tables).
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "socialsec.settings.dev",
        "DATABASE_URL": database_url(db),
    }
    stack = subprocess.Popen(
        [sys.executable, "manage.py", "runstack", "--addr", f"127.0.0.1:{port}", "--keep-services"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    assert response.read() == b"ok"
                    break
            except OSError:
                assert stack.poll() is None, "runstack exited early"
                assert time.monotonic() < deadline, "the web server did not answer within 90 s"
                time.sleep(0.5)
        children = psutil.Process(stack.pid).children(recursive=True)
        command_lines = [" ".join(child.cmdline()) for child in children]
        assert any("runserver" in line for line in command_lines)
        assert any("celery" in line and " worker" in line for line in command_lines)
        assert any("celery" in line and " beat" in line for line in command_lines)

        stack.send_signal(signal.SIGINT)
        output, _ = stack.communicate(timeout=60)
    finally:
        if stack.poll() is None:
            stack.kill()
    assert stack.returncode == 0
    assert "serving on http://127.0.0.1:" in output
    assert "stopped web, worker and beat" in output
    _, alive = psutil.wait_procs(children, timeout=20)
    assert alive == [], f"still running after Ctrl-C: {alive}"
