"""Enrolling the same person at once from several connections (DOMAIN §1.1, §8.2).

The service locks the person row, so the one-open-enrollment rule is decided one request at a
time; the partial unique index stays the last word. Real commits on real PostgreSQL: row
locks only matter across connections.
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from enrollment import services
from enrollment.choices import Scheme
from enrollment.models import Enrollment, PersonalAccount
from socialsec.core.choices import Role
from socialsec.core.exceptions import InvalidState
from socialsec.core.models import User
from tests.factories import PersonFactory, UserFactory

ATTEMPTS = 10


@pytest.mark.django_db(transaction=True)
def test_ten_clerks_enrolling_one_person_at_once_make_one_enrollment_and_one_account(cast):
    person = PersonFactory(village=cast.village_a, birth_date=dt.date(1970, 3, 1))
    second_clerk = UserFactory(username="clerk_lin", roles=[Role.CLERK], townships=[cast.township_a])
    clerk_ids = [cast.maker_ann.pk, second_clerk.pk]
    start = threading.Barrier(ATTEMPTS)

    def enrol(clerk_id: int) -> str:
        try:
            clerk = User.objects.get(pk=clerk_id)
            start.wait()
            try:
                services.enrollment_enroll(
                    person_id=person.pk,
                    scheme=Scheme.RESIDENT_PENSION,
                    start_date=dt.date(2025, 6, 1),
                    by=clerk,
                )
            except InvalidState as conflict:
                return f"conflict: {conflict.details.get('rule')}"
            return "enrolled"
        finally:
            connection.close()  # each thread opened its own connection

    with ThreadPoolExecutor(max_workers=ATTEMPTS) as pool:
        futures = [pool.submit(enrol, clerk_ids[i % 2]) for i in range(ATTEMPTS)]
    outcomes = sorted(future.result() for future in futures)  # re-raises anything else (a 500)
    assert outcomes == ["conflict: one_open_enrollment_per_scheme"] * (ATTEMPTS - 1) + ["enrolled"]
    enrollments = Enrollment.objects.filter(person=person, scheme=Scheme.RESIDENT_PENSION)
    assert enrollments.count() == 1
    assert PersonalAccount.objects.filter(person=person, scheme=Scheme.RESIDENT_PENSION).count() == 1
    assert enrollments.get().events.filter(pgh_label="insert").count() == 1
