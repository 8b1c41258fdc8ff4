"""The nightly coverage refresh as a django-celery-beat entry, so admins see and change it in /admin/.

Beat runs with the database scheduler (CELERY_BEAT_SCHEDULER): this row is the schedule. It is
created once; later edits by an admin (time, enabled) are theirs and no migration touches them.
"""

from django.db import migrations
from django.utils import timezone

TASK_NAME = "coverage_refresh nightly"
TASK = "enrollment.tasks.coverage_refresh"
# 02:30 in the county's time: after the day's imports, before the offices open.
CRONTAB = {
    "minute": "30",
    "hour": "2",
    "day_of_week": "*",
    "day_of_month": "*",
    "month_of_year": "*",
    "timezone": "Asia/Shanghai",
}


def schedule(apps, schema_editor):
    crontab_model = apps.get_model("django_celery_beat", "CrontabSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    changes_model = apps.get_model("django_celery_beat", "PeriodicTasks")
    crontab, _ = crontab_model.objects.get_or_create(**CRONTAB)
    task_model.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": TASK,
            "crontab": crontab,
            "enabled": True,
            # No arguments: the task takes today's date in the county's time zone.
            "args": "[]",
            "kwargs": "{}",
            "description": "Rebuild the coverage (全民参保) rollup from the registry every night.",
        },
    )
    # A running beat reloads its schedule when this stamp moves (the admin moves it on every save).
    changes_model.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("enrollment", "0009_audit_append_only"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
