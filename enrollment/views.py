"""Clerk pages of the registry: persons, organizations and their fee-relief applications.

Every row comes through visible_to (the selectors, get_visible_or_404), so another
township's record is a 404; every view needs its model's view permission or the step's
own (403 otherwise). Writes go through enrollment.services, which decide what is allowed.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers
from django_fsm import has_transition_perm

from enrollment import coverage, services
from enrollment.choices import SizeClass
from enrollment.forms import FeeReliefDecisionForm, FeeReliefFileForm, OrganizationRegisterForm
from enrollment.models import FeeReliefApplication, Organization, Person
from enrollment.selectors import (
    fee_relief_applications_of,
    fee_relief_policies_for,
    fee_relief_waiting_for,
    organization_search,
    person_accounts,
    person_categories,
    person_contribution_years,
    person_enrollments,
    person_household,
    person_search,
    person_timeline,
    timeline_subjects_for,
)
from socialsec.core.choices import DivisionLevel
from socialsec.core.exceptions import InvalidInput, InvalidState
from socialsec.core.models import AdministrativeDivision
from socialsec.core.scoping import assigned_township_ids, can_see_whole_county, get_visible_or_404
from socialsec.core.views import positive_int, township_scoped, wants_partial
from socialsec.lib.masking import mask_bank_account, mask_card_number
from socialsec.lib.resident_id import mask_resident_id
from socialsec.lib.spreadsheets import write_workbook

PAGE_SIZE = 50

# The national social-security card number (社保卡卡号): one letter and eight digits, e.g. A36012145.
_CARD_NUMBER = re.compile(r"^[A-Z][0-9]{8}$")


@dataclass(frozen=True)
class PersonRow:
    person: Person
    id_number_masked: str


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
    after = positive_int(request.GET.get("after"))
    card_number = "".join(query.split()).upper()
    if _CARD_NUMBER.match(card_number):
        # A social-security card number: exact, through the unique card index. It never looks
        # like a name or an ID number, so person_search's own branches are not shadowed.
        persons = person_search(user=request.user).filter(card_number=card_number)
    else:
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
    template = "enrollment/_person_rows.html" if wants_partial(request) else "enrollment/person_list.html"
    return render(request, template, context)


def _timeline_page_number(request: HttpRequest) -> int:
    try:
        number = int(request.GET.get("timeline_page", "1"))
    except ValueError:
        return 1
    return number if number > 0 else 1


def _timeline_context(request: HttpRequest, person: Person) -> dict[str, Any]:
    # Only the kinds of record the user may view have their history shown.
    timeline = person_timeline(
        person,
        subjects=timeline_subjects_for(request.user),
        page=_timeline_page_number(request),
    )
    return {"person": person, "timeline": timeline}


def _detail_context(request: HttpRequest, person: Person) -> dict[str, Any]:
    """Everything the person page (记录一生) shows; a fixed number of queries, whatever its length."""
    user = request.user
    household = person_household(person, user=user)
    # Sections of records the role may not read (a finance user: enrollments…) are left out.
    may_view_enrollments = user.has_perm("enrollment.view_enrollment")
    may_view_contributions = user.has_perm("enrollment.view_contributionrecord")
    may_view_accounts = user.has_perm("enrollment.view_personalaccount")
    contribution_years = person_contribution_years(person) if may_view_contributions else None
    return {
        **_timeline_context(request, person),
        "id_number_masked": mask_resident_id(person.id_number),
        "card_number_masked": mask_card_number(person.card_number),
        "bank_account_masked": mask_bank_account(person.bank_account_number),
        "age": age_on(person.birth_date, person.death_date or timezone.localdate()),
        "household": household.household,
        "members": [PersonRow(member, mask_resident_id(member.id_number)) for member in household.members],
        "categories": person_categories(person, on=timezone.localdate()),
        "may_view_enrollments": may_view_enrollments,
        "enrollments": person_enrollments(person) if may_view_enrollments else [],
        "may_view_contributions": may_view_contributions,
        "contribution_years": contribution_years or [],
        "may_view_accounts": may_view_accounts,
        # The contribution years are counted from the rows above when the user may read them.
        "accounts": person_accounts(person, contribution_years=contribution_years)
        if may_view_accounts
        else [],
        "may_unmask": user.has_perm("core.unmask_personal_data"),
        "may_confirm_address_code": user.has_perm("enrollment.confirm_address_code"),
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
@vary_on_headers("HX-Request", "HX-Target")
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The person page: identity, household, special groups, enrollments, contribution years,
    accounts and the history of all of them. An htmx request for another page of the
    history gets that card only."""
    if wants_partial(request) and request.htmx.target == "timeline":  # type: ignore[attr-defined]
        person = get_visible_or_404(Person.objects.all(), request.user, pk=pk)
        return render(request, "enrollment/person_detail.html#timeline", _timeline_context(request, person))
    person = _person_for_page(request, pk)
    return render(request, "enrollment/person_detail.html", _detail_context(request, person))


@township_scoped
@login_required
@permission_required("enrollment.view_person", raise_exception=True)
@require_POST
def person_unmask_id_number(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the full ID number once; the service checks the permission and records the look."""
    id_number = services.person_unmask_id_number(person_id=pk, by=request.user)
    if wants_partial(request):
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
    if wants_partial(request):
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
    if wants_partial(request):
        person = _person_for_page(request, pk)
        return render(
            request,
            "enrollment/person_detail.html#address_code",
            {"person": person, "may_confirm_address_code": True},
        )
    return redirect("enrollment:person_detail", pk=pk)


# --- Organizations (employers) ---------------------------------------------------------------------


def _form_error(form: forms.Form, error: InvalidInput) -> None:
    """Put a service's refusal next to the field it names, or above the form."""
    field = _SERVICE_FIELDS.get(error.details.get("field", ""), error.details.get("field"))
    form.add_error(field if field in form.fields else None, str(error.message))


# Service argument → form field, where the names differ.
_SERVICE_FIELDS = {"policy_id": "policy", "township_id": "township"}


def _townships_of(user: Any) -> Any:
    townships = AdministrativeDivision.objects.filter(level=DivisionLevel.TOWNSHIP).order_by("code")
    if can_see_whole_county(user):
        return townships
    return townships.filter(pk__in=assigned_township_ids(user))


@township_scoped
@login_required
@permission_required("enrollment.view_organization", raise_exception=True)
@require_safe
@vary_on_headers("HX-Request")
def organization_list(request: HttpRequest) -> HttpResponse:
    """Search by name prefix or credit code, filter by size class; keyset pages on id, never a COUNT(*)."""
    query = request.GET.get("q", "").strip()
    size_class = request.GET.get("size_class", "")
    if size_class not in SizeClass.values:
        size_class = ""
    after = positive_int(request.GET.get("after"))
    organizations = organization_search(user=request.user, query=query, size_class=size_class)
    if after:
        organizations = organizations.filter(id__lt=after)
    page = list(organizations[: PAGE_SIZE + 1])
    next_after = page[PAGE_SIZE - 1].pk if len(page) > PAGE_SIZE else None
    filters = urlencode({key: value for key, value in (("q", query), ("size_class", size_class)) if value})
    context = {
        "organizations": page[:PAGE_SIZE],
        "query": query,
        "size_class": size_class,
        "size_classes": SizeClass.choices,
        "filters": filters,
        "after": after,
        "next_after": next_after,
        "may_register": request.user.has_perm("enrollment.add_organization"),
    }
    template = (
        "enrollment/_organization_rows.html"
        if wants_partial(request)
        else "enrollment/organization_list.html"
    )
    return render(request, template, context)


@township_scoped
@login_required
@permission_required("enrollment.view_organization", raise_exception=True)
@require_safe
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organization = get_visible_or_404(Organization.objects.select_related("township"), request.user, pk=pk)
    context = {
        "organization": organization,
        "applications": list(fee_relief_applications_of(organization, user=request.user)),
        "may_file": request.user.has_perm("enrollment.add_feereliefapplication"),
    }
    return render(request, "enrollment/organization_detail.html", context)


@township_scoped  # the township choice lists only the clerk's townships; the service checks again
@login_required
@permission_required("enrollment.add_organization", raise_exception=True)
@require_http_methods(["GET", "HEAD", "POST"])
def organization_register(request: HttpRequest) -> HttpResponse:
    """Form → organization_register → the new organization's page; a refusal shows next to its field."""
    townships = _townships_of(request.user)
    form = OrganizationRegisterForm(request.POST or None, townships=townships)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                organization = services.organization_register(
                    credit_code=data["credit_code"],
                    name=data["name"],
                    size_class=data["size_class"],
                    size_class_year=data["size_class_year"],
                    size_class_basis=data["size_class_basis"],
                    industry=data["industry"],
                    township_id=data["township"].pk,
                    by=request.user,
                )
            except InvalidInput as error:
                _form_error(form, error)
            else:
                messages.success(request, _("The organization is registered."))
                return redirect("enrollment:organization_detail", pk=organization.pk)
        status = 400
    return render(request, "enrollment/organization_register.html", {"form": form}, status=status)


# --- Fee relief (减免缓) ---------------------------------------------------------------------------


@township_scoped
@login_required
@permission_required("enrollment.add_feereliefapplication", raise_exception=True)
@require_http_methods(["GET", "HEAD", "POST"])
def fee_relief_file(request: HttpRequest, pk: int) -> HttpResponse:
    """A clerk files an application for a visible organization, under a policy that covers it."""
    organization = get_visible_or_404(Organization.objects.select_related("township"), request.user, pk=pk)
    form = FeeReliefFileForm(request.POST or None, policies=fee_relief_policies_for(organization))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                application = services.fee_relief_file(
                    organization_id=organization.pk,
                    policy_id=data["policy"],
                    period_from=data["period_from"],
                    period_to=data["period_to"],
                    by=request.user,
                )
            except InvalidInput as error:
                _form_error(form, error)
            except InvalidState as error:  # another application already covers these months
                form.add_error(None, str(error.message))
                status = 409
            else:
                messages.success(request, _("The fee relief application is filed."))
                return redirect("enrollment:fee_relief_detail", pk=application.pk)
    context = {"organization": organization, "form": form}
    return render(request, "enrollment/fee_relief_file.html", context, status=status)


@township_scoped
@login_required
@permission_required("enrollment.decide_feereliefapplication", raise_exception=True)
@require_safe
@vary_on_headers("HX-Request")
def fee_relief_inbox(request: HttpRequest) -> HttpResponse:
    """FILED applications in the chief's townships, oldest first; keyset pages on id."""
    after = positive_int(request.GET.get("after"))
    applications = fee_relief_waiting_for(user=request.user)
    if after:
        applications = applications.filter(id__gt=after)
    page = list(applications[: PAGE_SIZE + 1])
    next_after = page[PAGE_SIZE - 1].pk if len(page) > PAGE_SIZE else None
    context = {
        "applications": _with_may_decide(page[:PAGE_SIZE], request.user),
        "after": after,
        "next_after": next_after,
        "decision_form": FeeReliefDecisionForm(),
    }
    template = (
        "enrollment/_fee_relief_rows.html" if wants_partial(request) else "enrollment/fee_relief_inbox.html"
    )
    return render(request, template, context)


def _application_for_page(request: HttpRequest, pk: int) -> FeeReliefApplication:
    applications = FeeReliefApplication.objects.select_related(
        "organization", "organization__township", "policy", "filed_by", "decided_by"
    )
    return _with_may_decide([get_visible_or_404(applications, request.user, pk=pk)], request.user)[0]


def _with_may_decide(applications: list[FeeReliefApplication], user: Any) -> list[FeeReliefApplication]:
    """Mark which applications this user may decide now, by the model's transition rule (no query)."""
    for application in applications:
        application.may_decide = has_transition_perm(application.approve, user)  # type: ignore[attr-defined]
    return applications


@township_scoped
@login_required
@permission_required("enrollment.view_feereliefapplication", raise_exception=True)
@require_safe
def fee_relief_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = _application_for_page(request, pk)
    context = {"application": application, "decision_form": FeeReliefDecisionForm()}
    return render(request, "enrollment/fee_relief_detail.html", context)


def _decide(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """Form → fee_relief_approve / fee_relief_refuse; the service checks role, filer, township and state.

    NotPermitted (403), NotVisible (404) and InvalidState (409) reach DomainErrorMiddleware,
    which answers with the page or, for htmx, the partial. A missing reason is the form's error.
    """
    form = FeeReliefDecisionForm(request.POST)
    status = 200
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        try:
            if step == "approve":
                services.fee_relief_approve(application_id=pk, by=request.user, note=reason)
            else:
                services.fee_relief_refuse(application_id=pk, by=request.user, reason=reason)
        except InvalidInput as error:
            _form_error(form, error)
            status = 400
    else:
        status = 400
    if status == 200 and not wants_partial(request):
        return redirect("enrollment:fee_relief_detail", pk=pk)
    application = _application_for_page(request, pk)
    context = {"application": application, "decision_form": form}
    template = (
        "enrollment/_fee_relief_decision.html"
        if wants_partial(request)
        else "enrollment/fee_relief_detail.html"
    )
    return render(request, template, context, status=status)


@township_scoped
@login_required
@permission_required("enrollment.view_feereliefapplication", raise_exception=True)
@require_POST
def fee_relief_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, "approve")


@township_scoped
@login_required
@permission_required("enrollment.view_feereliefapplication", raise_exception=True)
@require_POST
def fee_relief_refuse(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, "refuse")


# --- Coverage (全民参保) ---------------------------------------------------------------------------
# The figures come from CoverageRollup (enrollment.coverage.coverage_refresh), never from a
# GROUP BY over the registry; only the not-yet-enrolled list reads persons, one page at a time.


@township_scoped
@login_required
@permission_required("enrollment.view_person", raise_exception=True)
@require_safe
def coverage_overview(request: HttpRequest) -> HttpResponse:
    """Pension coverage per township the user works for, and the county total for county-wide staff."""
    table = coverage.coverage_for(request.user)
    return render(request, "enrollment/coverage_overview.html", {"table": table})


@township_scoped
@login_required
@permission_required("enrollment.view_person", raise_exception=True)
@require_safe
def coverage_township(request: HttpRequest, pk: int) -> HttpResponse:
    """One township's coverage and its villages'; another township's is a 404."""
    table = coverage.coverage_for(request.user, township_id=pk)
    return render(request, "enrollment/coverage_township.html", {"table": table})


def _not_enrolled_of(request: HttpRequest, level: str, pk: int) -> tuple[Any, Any]:
    """The village's or township's figures (404 if not visible) and its not-yet-enrolled."""
    division = {f"{level}_id": pk}
    row = coverage.coverage_row(request.user, **division)
    persons = coverage.not_enrolled(request.user, on=timezone.localdate(), **division)
    return row, persons


@township_scoped
@login_required
@permission_required("enrollment.view_person", raise_exception=True)
@require_safe
def coverage_not_enrolled(request: HttpRequest, level: str, pk: int) -> HttpResponse:
    """The not-yet-enrolled (应保未保) of a village or township, in keyset pages of PAGE_SIZE."""
    row, persons = _not_enrolled_of(request, level, pk)
    after = positive_int(request.GET.get("after"))
    if after:
        persons = persons.filter(id__gt=after)
    page = list(persons[: PAGE_SIZE + 1])
    today = timezone.localdate()
    context = {
        "row": row,
        "level": level,
        "rows": [
            (PersonRow(p, mask_resident_id(p.id_number)), age_on(p.birth_date, today))
            for p in page[:PAGE_SIZE]
        ],
        "after": after,
        "next_after": page[PAGE_SIZE - 1].pk if len(page) > PAGE_SIZE else None,
        "xlsx_url": request.path.removesuffix("/") + ".xlsx",
    }
    return render(request, "enrollment/coverage_not_enrolled.html", context)


@township_scoped
@login_required
@permission_required("enrollment.view_person", raise_exception=True)
@require_safe
def coverage_not_enrolled_xlsx(request: HttpRequest, level: str, pk: int) -> FileResponse:
    """The whole not-yet-enrolled list as xlsx for outreach; ID numbers masked as on the page."""
    row, persons = _not_enrolled_of(request, level, pk)
    today = timezone.localdate()
    header = [
        _("Name"),
        _("Resident ID number"),
        _("Sex"),
        _("Birth date"),
        _("Age"),
        _("Township"),
        _("Village (community)"),
        _("Phone"),
    ]
    rows = (
        [
            p.name,
            mask_resident_id(p.id_number),
            p.get_sex_display(),
            p.birth_date.isoformat(),
            age_on(p.birth_date, today),
            p.township.name,
            p.village.name,
            p.phone,
        ]
        for p in persons.iterator(chunk_size=2000)
    )
    division = row.village or row.township
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "not-enrolled.xlsx")
        write_workbook(path, header, rows, sheet_name=str(_("Not yet enrolled")))
        # The open handle keeps the file readable after the directory is removed (POSIX).
        handle = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
    return FileResponse(handle, as_attachment=True, filename=f"not-enrolled-{division.code}-{today}.xlsx")
