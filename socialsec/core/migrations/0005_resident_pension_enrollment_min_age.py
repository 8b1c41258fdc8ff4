"""DOMAIN §1.1: the resident pension's minimum enrolment age (16) becomes a parameter.

The row is written here, not read from socialsec/core/parameter_seed.py, so this migration
stays as it is when the seed module changes later.
"""

import datetime as dt

from django.db import migrations

ROW = {
    "region_code": "000000",
    "scheme": "resident_pension",
    "key": "resident_pension.enrollment.min_age",
    "kind": "integer",
    "unit": "years",
    "value": 16,
    "effective_from": dt.date(2014, 2, 21),
    "effective_to": None,
    "source_tag": "S11",
    "source_doc_no": "国发〔2014〕8号",
    "source_url": (
        "https://mpisoc.mpg.de/en/social-law/research/research-projects/pension-maps/project-website/"
        "peoples-republic-of-china/basic-old-age-pension-insurance-scheme-for-urban-and-rural-residents"
    ),
    "confidence": "B",
    "note": "Who can enrol: aged 16 and over, not a student (DOMAIN §1.1).",
}


def seed(apps, schema_editor):
    apps.get_model("core", "PolicyParameter").objects.create(**ROW)


def unseed(apps, schema_editor):
    apps.get_model("core", "PolicyParameter").objects.filter(
        region_code=ROW["region_code"], key=ROW["key"], effective_from=ROW["effective_from"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0004_event_foreign_keys_unindexed")]

    operations = [migrations.RunPython(seed, unseed)]
