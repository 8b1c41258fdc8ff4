"""The Celery app. Workers and beat read the CELERY_* Django settings."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialsec.settings.dev")


class ContextTask(Task):
    """Every row version a task writes records the task's name and id in the audit trail."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        import pghistory

        with pghistory.context(task=self.name, task_id=self.request.id):
            return super().__call__(*args, **kwargs)


app = Celery("socialsec", task_cls=ContextTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
