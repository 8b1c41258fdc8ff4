"""Seed the 2020 fee-relief policies of DOMAIN E23 [S43]: data, so a county can correct them."""

import datetime as dt
from decimal import Decimal

from django.db import migrations

DOC_NO = "人社部发〔2020〕11号；人社部发〔2020〕49号"
SOURCE_URL = "https://ssfb86.com/index/News/detail/newsid/32.html"
SCHEMES = ["employee_pension", "unemployment", "work_injury"]

POLICIES = [
    {
        "name": "2020年小微企业免征单位缴费",
        "kind": "exemption",
        # DOMAIN E23 names small enterprises; micro enterprises are smaller still and covered alike.
        # Medium enterprises are not seeded: DOMAIN does not state their treatment.
        "size_classes": ["small", "micro"],
        "period_from": dt.date(2020, 2, 1),
        "period_to": dt.date(2020, 12, 1),
        "rate": Decimal("1.0000"),
        "note": "DOMAIN E23: small enterprise, February–December 2020, exempt.",
    },
    {
        "name": "2020年大型企业减半征收单位缴费",
        "kind": "reduction",
        "size_classes": ["large"],
        "period_from": dt.date(2020, 2, 1),
        "period_to": dt.date(2020, 6, 1),
        "rate": Decimal("0.5000"),
        "note": "DOMAIN E23: large enterprise, February–June 2020, half rate.",
    },
    {
        "name": "2020年困难企业缓缴社会保险费",
        "kind": "deferral",
        "size_classes": ["large", "medium", "small", "micro"],
        "period_from": dt.date(2020, 2, 1),
        "period_to": dt.date(2020, 12, 1),
        "max_deferral_months": 6,
        "waives_late_fee": True,
        "confidence": "unconfirmed",
        "note": (
            "DOMAIN E23: hardship deferral of at most 6 months, no late fee. "
            "The months in which a deferral may be granted are not stated in DOMAIN (unconfirmed)."
        ),
    },
]


def seed(apps, schema_editor):
    FeeReliefPolicy = apps.get_model("enrollment", "FeeReliefPolicy")
    for row in POLICIES:
        FeeReliefPolicy.objects.update_or_create(
            name=row["name"],
            defaults={
                "schemes": SCHEMES,
                "source": "S43",
                "source_doc_no": DOC_NO,
                "source_url": SOURCE_URL,
                "region_code": "000000",
                "confidence": "B",
                **{key: value for key, value in row.items() if key != "name"},
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("enrollment", "FeeReliefPolicy").objects.filter(
        name__in=[row["name"] for row in POLICIES], source="S43"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("enrollment", "0003_organization_fee_relief")]

    operations = [migrations.RunPython(seed, unseed)]
