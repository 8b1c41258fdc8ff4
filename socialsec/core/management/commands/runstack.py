"""Serve the app with a Celery worker and beat in one terminal; Ctrl-C stops all of it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from socialsec.lib import embedded


class Command(BaseCommand):
    help = "Run the development web server, a Celery worker and Celery beat together."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument(
            "--keep-services",
            action="store_true",
            help="leave the embedded PostgreSQL/Redis running after Ctrl-C",
        )

    def handle(self, *args: Any, addr: str, keep_services: bool, **options: Any) -> None:
        python = sys.executable
        commands = {
            "web": [python, "manage.py", "runserver", addr, "--noreload"],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "socialsec",
                "worker",
                "-l",
                "info",
                "--concurrency",
                "2",
            ],
            "beat": [python, "-m", "celery", "-A", "socialsec", "beat", "-l", "info", "-S", "django"],
        }
        processes = {name: subprocess.Popen(cmd, cwd=settings.BASE_DIR) for name, cmd in commands.items()}  # noqa: S603
        self.stdout.write(
            self.style.SUCCESS(
                f"socialsec is serving on http://{addr}/ with a Celery worker and beat. "
                "Press Ctrl-C to stop all of it."
            )
        )
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"{name} exited with code {process.returncode}; stopping the rest.")
                        stopping = True
                time.sleep(0.5)
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.terminate()
            for process in processes.values():
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
            if not keep_services:
                embedded.stop_all(settings.VAR_DIR)
            self.stdout.write("stopped web, worker and beat.")
