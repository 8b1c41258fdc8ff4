"""Seed the contribution rates of DOMAIN §2.2 (employee pension [S27] C; unemployment [S3 Art6] A).

A frozen copy of EMPLOYEE_CONTRIBUTION of socialsec/core/parameter_seed.py as it stood when this
migration was written. The personal-account interest rate is not seeded: DOMAIN gives no figure.
"""

import datetime as dt

from django.db import migrations

SEED_ROWS = [{'region_code': '000000',
  'scheme': 'employee_pension',
  'key': 'employee_pension.contribution_rate.employer',
  'kind': 'decimal',
  'unit': 'ratio',
  'value': '0.16',
  'effective_from': '2019-05-01',
  'effective_to': None,
  'source_tag': 'S27',
  'source_doc_no': '国办发〔2019〕13号',
  'source_url': '',
  'confidence': 'C',
  'note': 'DOMAIN §2.2 [S27] (C): secondary summaries; the original text and the date are unconfirmed.'},
 {'region_code': '000000',
  'scheme': 'employee_pension',
  'key': 'employee_pension.contribution_rate.individual',
  'kind': 'decimal',
  'unit': 'ratio',
  'value': '0.08',
  'effective_from': '2006-01-01',
  'effective_to': None,
  'source_tag': 'S27',
  'source_doc_no': '国发〔2005〕38号',
  'source_url': '',
  'confidence': 'C',
  'note': 'DOMAIN §2.2 [S27] (C): secondary summaries; the original text and the date are unconfirmed.'},
 {'region_code': '000000',
  'scheme': 'employee_pension',
  'key': 'employee_pension.contribution_base.floor_ratio',
  'kind': 'decimal',
  'unit': 'ratio',
  'value': '0.60',
  'effective_from': '2019-05-01',
  'effective_to': None,
  'source_tag': 'S27',
  'source_doc_no': '国办发〔2019〕13号',
  'source_url': '',
  'confidence': 'C',
  'note': 'DOMAIN §2.2 [S27] (C): secondary summaries; the original text and the date are unconfirmed.'},
 {'region_code': '000000',
  'scheme': 'employee_pension',
  'key': 'employee_pension.contribution_base.ceiling_ratio',
  'kind': 'decimal',
  'unit': 'ratio',
  'value': '3.00',
  'effective_from': '2019-05-01',
  'effective_to': None,
  'source_tag': 'S27',
  'source_doc_no': '国办发〔2019〕13号',
  'source_url': '',
  'confidence': 'C',
  'note': 'DOMAIN §2.2 [S27] (C): secondary summaries; the original text and the date are unconfirmed.'},
 {'region_code': '000000',
  'scheme': 'employee_pension',
  'key': 'employee_pension.flexible_worker.contribution_rate',
  'kind': 'decimal',
  'unit': 'ratio',
  'value': '0.20',
  'effective_from': '2006-01-01',
  'effective_to': None,
  'source_tag': 'S27',
  'source_doc_no': '国发〔2005〕38号',
  'source_url': '',
  'confidence': 'C',
  'note': 'DOMAIN §2.2 [S27] (C): secondary summaries; the original text and the date are unconfirmed.'},
 {'region_code': '000000',
  'scheme': 'employee_pension',
  'key': 'employee_pension.flexible_worker.personal_account_rate',
  'kind': 'decimal',
  'unit': 'ratio',
  'value': '0.08',
  'effective_from': '2006-01-01',
  'effective_to': None,
  'source_tag': 'S27',
  'source_doc_no': '国发〔2005〕38号',
  'source_url': '',
  'confidence': 'C',
  'note': 'DOMAIN §2.2 [S27] (C): secondary summaries; the original text and the date are unconfirmed.'},
 {'region_code': '000000',
  'scheme': 'unemployment_benefit',
  'key': 'unemployment_benefit.contribution_rate.employer',
  'kind': 'decimal',
  'unit': 'ratio',
  'value': '0.02',
  'effective_from': '1999-01-22',
  'effective_to': None,
  'source_tag': 'S3',
  'source_doc_no': '失业保险条例 Art6',
  'source_url': 'https://github.com/LawRefBook/Laws/blob/2f4c5c2/行政法规/失业保险条例(1999-01-22).md',
  'confidence': 'A',
  'note': 'The 1999 rate; the current temporarily reduced rates are unconfirmed (DOMAIN §2.2).'},
 {'region_code': '000000',
  'scheme': 'unemployment_benefit',
  'key': 'unemployment_benefit.contribution_rate.individual',
  'kind': 'decimal',
  'unit': 'ratio',
  'value': '0.01',
  'effective_from': '1999-01-22',
  'effective_to': None,
  'source_tag': 'S3',
  'source_doc_no': '失业保险条例 Art6',
  'source_url': 'https://github.com/LawRefBook/Laws/blob/2f4c5c2/行政法规/失业保险条例(1999-01-22).md',
  'confidence': 'A',
  'note': 'The 1999 rate; the current temporarily reduced rates are unconfirmed (DOMAIN §2.2).'}]


def seed(apps, schema_editor):
    PolicyParameter = apps.get_model("core", "PolicyParameter")
    # One by one, not bulk_create: each insert passes the overlap trigger and writes its audit row.
    for row in SEED_ROWS:
        PolicyParameter.objects.create(
            **{
                **row,
                "effective_from": dt.date.fromisoformat(row["effective_from"]),
                "effective_to": dt.date.fromisoformat(row["effective_to"]) if row["effective_to"] else None,
            }
        )


def unseed(apps, schema_editor):
    PolicyParameter = apps.get_model("core", "PolicyParameter")
    for row in SEED_ROWS:
        PolicyParameter.objects.filter(
            region_code=row["region_code"], key=row["key"], effective_from=row["effective_from"]
        ).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0007_benefit_parameters")]

    operations = [migrations.RunPython(seed, unseed)]
