"""Writes to the registry. Every state change and every audited read goes through here."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pghistory
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enrollment.models import Person
from socialsec.core.exceptions import InvalidInput, InvalidState, NotPermitted
from socialsec.core.scoping import get_visible_or_404

if TYPE_CHECKING:
    from socialsec.core.models import User


@transaction.atomic
def person_unmask_id_number(*, person_id: int, by: User) -> str:
    """The full resident ID number, for a user allowed to see it; every look is recorded.

    Needs `core.unmask_personal_data` (NotPermitted, 403, otherwise) and a person in one
    of the user's townships (NotVisible, 404, otherwise). The audit event is written in
    the same transaction as the read, so no one sees a number without a record of it.
    """
    # The permission first: a user without it learns nothing, not even whether the id exists.
    if not by.has_perm("core.unmask_personal_data"):
        raise NotPermitted(_("Your role may not see full resident ID numbers."), person_id=person_id)
    person = get_visible_or_404(Person.objects.all(), by, pk=person_id)
    with pghistory.context(user=by.pk, action="unmask"):
        pghistory.create_event(person, label="unmask_id_number")
    return person.id_number


@transaction.atomic
def person_record_death(*, person_id: int, death_date: dt.date, source: str, by: User) -> Person:
    """Record a death reported by a source dataset (civil affairs, hospital, police…).

    A clerk's step (`enrollment.change_person`, 403 otherwise). The date must fall between
    the birth date and today (400). A death already on record is not overwritten: a
    correction is a different, reviewed step (409 naming the recorded date).
    """
    if not by.has_perm("enrollment.change_person"):
        raise NotPermitted(_("Your role may not record deaths."), person_id=person_id)
    # Lock the row: two clerks recording the same death at once are decided one at a time.
    person = get_visible_or_404(Person.objects.select_for_update(), by, pk=person_id)
    if person.death_date is not None:
        raise InvalidState(
            _("%(name)s is already recorded as dead on %(date)s.")
            % {"name": person.name, "date": person.death_date},
            person_id=person.pk,
            death_date=person.death_date.isoformat(),
        )
    if death_date > timezone.localdate():
        raise InvalidInput(
            _("The date of death %(date)s is in the future.") % {"date": death_date}, field="death_date"
        )
    if death_date < person.birth_date:
        raise InvalidInput(
            _("The date of death %(date)s is before the birth date %(birth)s.")
            % {"date": death_date, "birth": person.birth_date},
            field="death_date",
        )
    person.death_date = death_date
    person.death_source = source
    person.save(update_fields=["death_date", "death_source", "updated_at"])
    return person
