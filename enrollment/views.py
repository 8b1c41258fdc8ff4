"""Clerk pages of the registry: person search and the person page.

Every row comes through visible_to (person_search, get_visible_or_404), so another
township's person is a 404; every view needs `enrollment.view_person` (403 otherwise).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from enrollment import services
from enrollment.models import Household, Person
from enrollment.selectors import person_categories, person_search, person_timeline
from socialsec.core.scoping import get_visible_or_404
from socialsec.core.views import township_scoped
from socialsec.lib.masking import mask_bank_account, mask_card_number
from socialsec.lib.resident_id import mask_resident_id

PAGE_SIZE = 50


@dataclass(frozen=True)
class PersonRow:
    person: Person
    id_number_masked: str


def _wants_partial(request: HttpRequest) -> bool:
    # A history restore (back button after a cache miss) needs the whole page.
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def _parse_after(raw: str | None) -> int | None:
    try:
        after = int(raw) if raw else None
    except ValueError:
        return None
    return after if after and after > 0 else None


def age_on(birth_date: dt.date, day: dt.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


@township_scoped
@login_required
@permission_required("enrollment.view_person", raise_exception=True)
@require_safe
@vary_on_headers("HX-Request")
def person_list(request: HttpRequest) -> HttpResponse:
    """Search as you type; keyset pages of PAGE_SIZE on id, newest first, never a COUNT(*)."""
    query = request.GET.get("q", "").strip()
    after = _parse_after(request.GET.get("after"))
    persons = person_search(user=request.user, query=query)
    if after:
        persons = persons.filter(id__lt=after)
    # One row more than the page tells whether a next page exists, in the same query.
    page = list(persons[: PAGE_SIZE + 1])
    next_after = page[PAGE_SIZE - 1].pk if len(page) > PAGE_SIZE else None
    context = {
        "rows": [PersonRow(p, mask_resident_id(p.id_number)) for p in page[:PAGE_SIZE]],
        "query": query,
        "after": after,
        "next_after": next_after,
    }
    template = "enrollment/_person_rows.html" if _wants_partial(request) else "enrollment/person_list.html"
    return render(request, template, context)


def _detail_context(request: HttpRequest, person: Person) -> dict[str, Any]:
    household = None
    members: list[PersonRow] = []
    if person.household_id is not None:
        household = (
            Household.objects.visible_to(request.user)
            .select_related("village")
            .filter(pk=person.household_id)
            .first()
        )
        members = [
            PersonRow(member, mask_resident_id(member.id_number))
            for member in Person.objects.visible_to(request.user)
            .filter(household_id=person.household_id)
            .exclude(pk=person.pk)
            .order_by("birth_date", "id")
        ]
    return {
        "person": person,
        "id_number_masked": mask_resident_id(person.id_number),
        "card_number_masked": mask_card_number(person.card_number),
        "bank_account_masked": mask_bank_account(person.bank_account_number),
        "age": age_on(person.birth_date, person.death_date or timezone.localdate()),
        "household": household,
        "members": members,
        "categories": person_categories(person, on=timezone.localdate()),
        "timeline": person_timeline(person),
        "may_unmask": request.user.has_perm("core.unmask_personal_data"),
        "may_confirm_address_code": request.user.has_perm("enrollment.confirm_address_code"),
    }


def _person_for_page(request: HttpRequest, pk: int) -> Person:
    # The confirming chief is joined and the memberships prefetched: the page's queries do not
    # grow with the number of special groups.
    persons = Person.objects.select_related("township", "village", "address_code_confirmed_by")
    return get_visible_or_404(persons.prefetch_related("categories"), request.user, pk=pk)


@township_scoped
@login_required
@permission_required("enrollment.view_person", raise_exception=True)
@require_safe
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person_for_page(request, pk)
    return render(request, "enrollment/person_detail.html", _detail_context(request, person))


@township_scoped
@login_required
@permission_required("enrollment.view_person", raise_exception=True)
@require_POST
def person_unmask_id_number(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the full ID number once; the service checks the permission and records the look."""
    id_number = services.person_unmask_id_number(person_id=pk, by=request.user)
    if _wants_partial(request):
        return render(request, "enrollment/person_detail.html#id_number", {"id_number": id_number})
    person = _person_for_page(request, pk)
    context = {**_detail_context(request, person), "id_number": id_number}
    return render(request, "enrollment/person_detail.html", context)


@township_scoped
@login_required
@permission_required("enrollment.view_person", raise_exception=True)
@require_POST
def person_unmask_bank_account(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the full bank account number once; the service checks the permission and records the look."""
    bank_account_number = services.person_unmask_bank_account(person_id=pk, by=request.user)
    if _wants_partial(request):
        return render(
            request,
            "enrollment/person_detail.html#bank_account",
            {"bank_account_number": bank_account_number},
        )
    person = _person_for_page(request, pk)
    context = {**_detail_context(request, person), "bank_account_number": bank_account_number}
    return render(request, "enrollment/person_detail.html", context)


@township_scoped
@login_required
@permission_required("enrollment.view_person", raise_exception=True)
@require_POST
def person_confirm_address_code(request: HttpRequest, pk: int) -> HttpResponse:
    """A section chief confirms an unknown address code (DOMAIN §6.1 gap 4); the service decides who may."""
    services.person_confirm_address_code(person_id=pk, by=request.user)
    if _wants_partial(request):
        person = _person_for_page(request, pk)
        return render(
            request,
            "enrollment/person_detail.html#address_code",
            {"person": person, "may_confirm_address_code": True},
        )
    return redirect("enrollment:person_detail", pk=pk)
