"""The monthly sweep as a django-celery-beat entry, so admins see and change it in /admin/.

Beat runs with the database scheduler: this row is the schedule. Created once; later edits by an
admin (time, enabled) are theirs and no migration touches them.
"""

from django.db import migrations
from django.utils import timezone

TASK_NAME = "monthly_sweep"
TASK = "benefits.tasks.monthly_sweep"
# 01:30 on the 1st, in the county's time: before the offices open on the month's first day.
CRONTAB = {
    "minute": "30",
    "hour": "1",
    "day_of_week": "*",
    "day_of_month": "1",
    "month_of_year": "*",
    "timezone": "Asia/Shanghai",
}


def schedule(apps, schema_editor):
    crontab, _ = apps.get_model("django_celery_beat", "CrontabSchedule").objects.get_or_create(**CRONTAB)
    apps.get_model("django_celery_beat", "PeriodicTask").objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": TASK,
            "crontab": crontab,
            "enabled": True,
            # No arguments: the task sweeps the current month in the county's time zone.
            "args": "[]",
            "kwargs": "{}",
            "description": "应发尽发 work items, stops on death with overpaid months, the month's draft rosters.",
        },
    )
    # A running beat reloads its schedule when this stamp moves.
    apps.get_model("django_celery_beat", "PeriodicTasks").objects.update_or_create(
        ident=1, defaults={"last_update": timezone.now()}
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("benefits", "0003_monthly_sweep"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
