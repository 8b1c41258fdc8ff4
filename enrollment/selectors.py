"""Reads of the registry that serve both the clerk pages and the API."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection, models
from django.db.models import Case, Count, Max, Min, Prefetch, Q, Sum, Value, When
from django.db.models.functions import ExtractYear
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from pghistory.models import Context

from enrollment.choices import FeeReliefStatus, PeriodKind, Relationship, Scheme, SpecialGroup
from enrollment.models import (
    ContributionRecord,
    Enrollment,
    FeeReliefApplication,
    FeeReliefPolicy,
    Household,
    Organization,
    Person,
    PersonalAccount,
    PersonCategory,
)
from enrollment.querysets import (
    FeeReliefApplicationQuerySet,
    HouseholdQuerySet,
    OrganizationQuerySet,
    PersonCategoryQuerySet,
    PersonQuerySet,
)
from socialsec.core.models import AdministrativeDivision, User
from socialsec.core.parameters import param
from socialsec.core.scoping import get_visible_or_404
from socialsec.lib.masking import mask_bank_account, mask_card_number
from socialsec.lib.money import round_money
from socialsec.lib.resident_id import mask_resident_id

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


def person_search(*, user: User | AnonymousUser, query: str = "") -> PersonQuerySet:
    """Persons the user may see, newest first, matching the query (see PersonQuerySet.search).

    Callers page by keyset on id; nothing here counts the whole set.
    """
    persons = Person.objects.visible_to(user).select_related("township", "village").search(query)
    return persons.order_by("-id")


@dataclass(frozen=True)
class PersonCategories:
    in_force: list[PersonCategory]
    upcoming: list[PersonCategory]
    past: list[PersonCategory]


def person_categories(person: Person, *, on: dt.date) -> PersonCategories:
    """The person's special-group memberships on a day: in force, not yet, and ended.

    Reads `person.categories.all()`, so a caller that prefetched them pays no query.
    """
    memberships = sorted(person.categories.all(), key=lambda m: (m.effective_from, m.pk), reverse=True)
    return PersonCategories(
        in_force=[m for m in memberships if m.is_in_force(on)],
        upcoming=[m for m in memberships if m.effective_from > on],
        past=[m for m in memberships if m.effective_to is not None and m.effective_to < on],
    )


def person_category_search(*, user: User | AnonymousUser) -> PersonCategoryQuerySet:
    """Memberships of persons the user may see, with the person and township for display.

    Filters (group, in force on a day, township) are applied by the caller; pages go by
    keyset on id.
    """
    return PersonCategory.objects.visible_to(user).select_related("person", "person__township")


# --- Households ----------------------------------------------------------------------------------

# Head first, then the spouse, children, parents, grandchildren and other relatives; then by age.
_RELATIONSHIP_ORDER = Case(
    *(When(relationship=value, then=Value(rank)) for rank, value in enumerate(Relationship.values)),
    default=Value(len(Relationship.values)),
)


def household_members(*, user: User | AnonymousUser) -> Prefetch:
    """A Prefetch of households' members the user may see, head first, then by birth date.

    A household's members normally share its township; one registered elsewhere is left out
    rather than shown to a clerk of the household's township.
    """
    members = (
        Person.objects.visible_to(user)
        .alias(relationship_rank=_RELATIONSHIP_ORDER)
        .order_by("relationship_rank", "birth_date", "id")
    )
    return Prefetch("members", queryset=members)


def household_search(*, user: User | AnonymousUser) -> HouseholdQuerySet:
    """Households the user may see, with their divisions and their members (one prefetch per page).

    Filters are the caller's; pages go by keyset on id.
    """
    return (
        Household.objects.visible_to(user)
        .select_related("township", "village")
        .prefetch_related(household_members(user=user))
    )


@dataclass(frozen=True)
class PersonHousehold:
    household: Household | None
    # The other members the user may see, head first.
    members: list[Person]


def person_household(person: Person, *, user: User | AnonymousUser) -> PersonHousehold:
    """The person's household and its other members, two queries whatever its size."""
    if person.household_id is None:
        return PersonHousehold(household=None, members=[])
    household = (
        Household.objects.visible_to(user).select_related("village").filter(pk=person.household_id).first()
    )
    if household is None:
        return PersonHousehold(household=None, members=[])
    members = household_members(user=user).queryset.filter(household_id=household.pk).exclude(pk=person.pk)
    return PersonHousehold(household=household, members=list(members))


# --- The person page (记录一生): enrollments, contribution years, accounts --------------------------


def person_enrollments(person: Person) -> list[Enrollment]:
    """Every enrollment of the person, newest first, with its employer.

    The caller has already passed the person through visible_to: an enrollment is scoped by
    its person's township (Enrollment.TOWNSHIP_PATH), so it is visible exactly when they are.
    """
    return list(
        Enrollment.objects.filter(person=person).select_related("organization").order_by("-start_date", "-id")
    )


@dataclass(frozen=True)
class ContributionYear:
    """What was paid in one year of one enrollment (DOMAIN §1.2, §2.2, §8.1).

    Resident pension: the one year record (periods == 1) with its grade. Employee schemes:
    the months of that year summed, with the lowest and highest base.
    """

    year: int
    enrollment_id: int
    scheme: str
    organization_name: str
    period_kind: str
    periods: int
    grade: Decimal | None
    base_min: Decimal | None
    base_max: Decimal | None
    personal: Decimal
    collective: Decimal
    government_subsidy: Decimal
    proxy_payment: Decimal
    proxy_payment_source: str
    backpaid_periods: int

    @property
    def scheme_label(self) -> str:
        return str(Scheme(self.scheme).label)

    @property
    def is_year(self) -> bool:
        return self.period_kind == PeriodKind.YEAR

    @property
    def credited(self) -> Decimal:
        """What this year added to the personal account (ContributionRecord.credited_to_account)."""
        return self.personal + self.collective + self.government_subsidy + self.proxy_payment

    @property
    def backpaid(self) -> bool:
        return self.backpaid_periods > 0


def person_contribution_years(person: Person) -> list[ContributionYear]:
    """The person's contributions grouped by year and enrollment, newest year first.

    One GROUP BY query however many records: a resident-pension year is one record, an
    employee scheme has up to twelve month records a year, summed here.
    """
    rows = (
        ContributionRecord.objects.filter(enrollment__person=person)
        .values(
            "enrollment_id",
            "enrollment__scheme",
            "enrollment__organization__name",
            "period_kind",
            year=ExtractYear("period_start"),
        )
        .annotate(
            periods=Count("id"),
            grade=Max("grade"),
            base_min=Min("base"),
            base_max=Max("base"),
            personal=Sum("personal_amount"),
            collective=Sum("collective_amount"),
            government_subsidy=Sum("government_subsidy"),
            proxy_payment=Sum("proxy_payment_amount"),
            proxy_payment_source=Max("proxy_payment_source"),
            backpaid_periods=Count("id", filter=Q(is_backpay=True)),
        )
        .order_by("-year", "enrollment__scheme", "enrollment_id")
    )
    return [
        ContributionYear(
            year=row["year"],
            enrollment_id=row["enrollment_id"],
            scheme=row["enrollment__scheme"],
            organization_name=row["enrollment__organization__name"] or "",
            period_kind=row["period_kind"],
            periods=row["periods"],
            grade=row["grade"],
            base_min=row["base_min"],
            base_max=row["base_max"],
            personal=row["personal"],
            collective=row["collective"],
            government_subsidy=row["government_subsidy"],
            proxy_payment=row["proxy_payment"],
            proxy_payment_source=row["proxy_payment_source"] or "",
            backpaid_periods=row["backpaid_periods"],
        )
        for row in rows
    ]


# --- The timeline (记录一生): every change, from the pghistory audit trail --------------------------

TIMELINE_PAGE_SIZE = 50

# Manual events repeat the row as it was; a change is measured against the last real version.
_MANUAL_EVENTS = ("unmask_id_number", "unmask_bank_account")

EVENT_LABELS = {
    "update": _("Changed"),
    "delete": _("Deleted"),
    "unmask_id_number": _("Full ID number viewed"),
    "unmask_bank_account": _("Full bank account number viewed"),
}

# Never shown in full, in a diff either: the masks of the pages (socialsec.lib).
_MASKS = {
    "id_number": mask_resident_id,
    "bank_account_number": mask_bank_account,
    "card_number": mask_card_number,
}


@dataclass(frozen=True)
class _Subject:
    """One kind of row in a person's life, with the event table it is read from."""

    key: str
    model: type[models.Model]
    # The columns the timeline names (attnames), in display order. Who recorded a row is in the
    # event's context already; parameters_used is the subsidy's trace, shown on the record itself.
    fields: tuple[str, ...]
    insert_label: Any
    # Rows of this kind belonging to the person: SQL on %(person)s / %(household)s, for pgh_obj_id IN.
    rows_sql: str
    # Who may see this kind: the view permission of the model.
    permission: str


def _table(model: type[models.Model]) -> str:
    return model._meta.db_table


def _event_table(model: type[models.Model]) -> str:
    return model.events.rel.related_model._meta.db_table  # type: ignore[attr-defined]


_SUBJECTS = (
    _Subject(
        "person",
        Person,
        (
            "id_number",
            "name",
            "sex",
            "birth_date",
            "registration_type",
            "township_id",
            "village_id",
            "household_id",
            "relationship",
            "death_date",
            "death_source",
            "phone",
            "card_number",
            "card_issue_date",
            "card_status",
            "bank_account_number",
            "bank_name",
            "address_code_unverified",
            "address_code_confirmed_by_id",
            "address_code_confirmed_at",
        ),
        _("Registered"),
        "SELECT %(person)s::bigint",
        "enrollment.view_person",
    ),
    _Subject(
        "household",
        Household,
        ("number", "township_id", "village_id", "registration_type"),
        _("Registered"),
        "SELECT %(household)s::bigint",
        "enrollment.view_household",
    ),
    _Subject(
        "special_group",
        PersonCategory,
        ("category", "disability_grade", "source", "effective_from", "effective_to", "evidence"),
        _("Recorded"),
        f"SELECT id FROM {_table(PersonCategory)} WHERE person_id = %(person)s",
        "enrollment.view_personcategory",
    ),
    _Subject(
        "enrollment",
        Enrollment,
        (
            "scheme",
            "status",
            "pooling_area",
            "start_date",
            "end_date",
            "organization_id",
            "termination_reason",
        ),
        _("Enrolled"),
        f"SELECT id FROM {_table(Enrollment)} WHERE person_id = %(person)s",
        "enrollment.view_enrollment",
    ),
    _Subject(
        "contribution",
        ContributionRecord,
        (
            "period_start",
            "grade",
            "base",
            "personal_amount",
            "collective_amount",
            "government_subsidy",
            "proxy_payment_amount",
            "proxy_payment_source",
            "is_backpay",
            "payer",
            "paid_on",
        ),
        _("Recorded"),
        f"SELECT c.id FROM {_table(ContributionRecord)} c JOIN {_table(Enrollment)} n"
        " ON n.id = c.enrollment_id WHERE n.person_id = %(person)s",
        "enrollment.view_contributionrecord",
    ),
    _Subject(
        "account",
        PersonalAccount,
        ("personal", "collective", "government_subsidy", "proxy_payment", "interest"),
        _("Opened"),
        f"SELECT id FROM {_table(PersonalAccount)} WHERE person_id = %(person)s",
        "enrollment.view_personalaccount",
    ),
)
_SUBJECT_BY_KEY = {subject.key: subject for subject in _SUBJECTS}


def _timeline_sql(subjects: list[_Subject]) -> str:
    """One statement: the events of every subject, each diffed against the previous version.

    Each branch finds its rows through the current table's indexed foreign key and the
    event table's pgh_obj index (the copied person_id in the event tables has no index, on
    purpose: see PGHISTORY_FOREIGN_KEY_FIELD). A contribution carries its enrollment's
    scheme as `hint`, so the entry can name it without another query. LAG runs over the
    whole history before LIMIT, so the oldest entry of a page still has its predecessor.
    """
    branches = []
    for rank, subject in enumerate(subjects):
        hint = (
            f"(SELECT n.scheme FROM {_table(Enrollment)} n WHERE n.id = e.enrollment_id)"
            if subject.model is ContributionRecord
            else "NULL::text"
        )
        branches.append(
            f"""
            SELECT '{subject.key}' AS subject, {rank} AS rank, e.pgh_id, e.pgh_created_at, e.pgh_label,
                   e.pgh_obj_id, e.pgh_context_id, to_jsonb(e) AS data, {hint} AS hint
              FROM {_event_table(subject.model)} e
             WHERE e.pgh_obj_id IN ({subject.rows_sql})"""
        )
    union = "\n            UNION ALL".join(branches)
    # Nested SELECTs rather than a WITH: pghistory prefixes every statement that does not start
    # with SELECT with its context variables, which a read has no use for.
    return f"""
        SELECT v.subject, v.pgh_label, v.pgh_created_at, v.data::text, v.previous::text, v.hint,
               c.metadata::text, u.username, u.first_name, u.last_name
          FROM (
            SELECT events.*,
                   LAG(data) OVER (
                       PARTITION BY rank, pgh_obj_id, pgh_label = ANY(%(manual)s) ORDER BY pgh_id
                   ) AS previous
              FROM ({union}
              ) events
          ) v
          LEFT JOIN {Context._meta.db_table} c ON c.id = v.pgh_context_id
          LEFT JOIN {User._meta.db_table} u
            ON u.id = CASE WHEN c.metadata->>'user' ~ '^[0-9]+$' THEN (c.metadata->>'user')::bigint END
         ORDER BY v.pgh_created_at DESC, v.rank DESC, v.pgh_id DESC
         LIMIT %(limit)s OFFSET %(offset)s
    """


@dataclass(frozen=True)
class FieldChange:
    """One column of one event: its name, and the value before and after, as shown (masked)."""

    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class TimelineVia:
    """What the change came through: a page or API request, a task, an import batch, a command."""

    kind: str  # request | task | import | command
    text: str
    import_batch_id: int | None = None


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    subject: str
    subject_label: str
    object_label: str
    event: str
    label: str
    by: str
    changed: list[FieldChange] = field(default_factory=list)
    via: list[TimelineVia] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]
    number: int
    has_previous: bool
    has_next: bool


def timeline_subjects_for(user: User | AnonymousUser) -> list[str]:
    """The kinds of record whose history this user may read: those they may view."""
    return [subject.key for subject in _SUBJECTS if user.has_perm(subject.permission)]


def person_timeline(
    person: Person,
    *,
    subjects: Iterable[str] | None = None,
    page: int = 1,
    page_size: int = TIMELINE_PAGE_SIZE,
) -> TimelinePage:
    """Every change to the person, their household, special groups, enrollments, contributions
    and personal accounts, newest first, one page at a time, from the pghistory events.

    Each entry says who (the context's user), when, what changed (old and new values, with
    ID, card and bank account numbers masked as everywhere else), and through what: the
    request's method and path, the Celery task, the import batch or the command. Looks at
    the full ID or account number are entries too.

    A constant number of queries whatever the length of the history: the events in one
    statement, then at most one query each for the names of divisions, households,
    employers and users the page's values point to. The caller has passed the person
    through visible_to; `subjects` (keys of _SUBJECTS, default all) limits the kinds of
    record, see timeline_subjects_for.
    """
    wanted = set(subjects) if subjects is not None else set(_SUBJECT_BY_KEY)
    chosen = [subject for subject in _SUBJECTS if subject.key in wanted]
    page = max(page, 1)
    if not chosen:
        return TimelinePage(entries=[], number=page, has_previous=page > 1, has_next=False)
    params = {
        "person": person.pk,
        "household": person.household_id,
        "manual": list(_MANUAL_EVENTS),
        "limit": page_size + 1,  # one more tells whether an older page exists
        "offset": (page - 1) * page_size,
    }
    with connection.cursor() as cursor:
        cursor.execute(_timeline_sql(chosen), params)
        rows = cursor.fetchall()
    events = [_TimelineRow.from_db(row) for row in rows[:page_size]]
    names = _Names.for_events(events)
    return TimelinePage(
        entries=[_entry(event, names) for event in events],
        number=page,
        has_previous=page > 1,
        has_next=len(rows) > page_size,
    )


@dataclass(frozen=True)
class _TimelineRow:
    subject: _Subject
    event: str
    at: dt.datetime
    data: dict[str, Any]
    previous: dict[str, Any] | None
    hint: str | None
    metadata: dict[str, Any]
    user: str

    @classmethod
    def from_db(cls, row: tuple[Any, ...]) -> _TimelineRow:
        subject, event, at, data, previous, hint, metadata, username, first_name, last_name = row
        full_name = f"{first_name or ''} {last_name or ''}".strip()
        return cls(
            subject=_SUBJECT_BY_KEY[subject],
            event=event,
            at=at,
            # Amounts stay Decimal: "500.00" must not come back as 500.0.
            data=json.loads(data, parse_float=Decimal),
            previous=json.loads(previous, parse_float=Decimal) if previous else None,
            hint=hint,
            metadata=json.loads(metadata) if metadata else {},
            user=full_name or username or "",
        )

    def changed_fields(self) -> list[tuple[str, Any, Any]]:
        """(attname, old, new) of the columns this event changed; for an insert, every value set."""
        columns = self.subject.fields
        if self.event == "insert":
            # A new row says what it holds; its zeros and unticked boxes are noise.
            return [
                (name, None, value) for name in columns if _is_set(value := self.data.get(name)) and value
            ]
        if self.event == "update" and self.previous is not None:
            return [
                (name, self.previous.get(name), self.data.get(name))
                for name in columns
                if self.previous.get(name) != self.data.get(name)
            ]
        return []


def _is_set(value: Any) -> bool:
    return value is not None and value != ""


# Foreign keys the timeline names by what a clerk knows them by, and where that name lives.
_NAMED_TARGETS: dict[type[models.Model], str] = {
    AdministrativeDivision: "name",
    Household: "number",
    Organization: "name",
    User: "username",
}


@dataclass(frozen=True)
class _Names:
    by_model: dict[type[models.Model], dict[int, str]]

    @classmethod
    def for_events(cls, events: list[_TimelineRow]) -> _Names:
        """The names of every division, household, employer and user the page's values point to.

        Exactly one query for a page with entries, whatever they point to (empty arrays match
        nothing), so the page's query count does not depend on what happened in it.
        """
        if not events:
            return cls(by_model={})
        wanted: dict[type[models.Model], set[int]] = {target: set() for target in _NAMED_TARGETS}
        for event in events:
            for name, old, new in event.changed_fields():
                target = _related_model(event.subject.model, name)
                if target is not None:
                    wanted[target].update(v for v in (old, new) if isinstance(v, int))
        # Names of what the person's own rows pointed to (a former village, an employer in
        # another township): read by id, as enrollment_enroll reads an employer.
        targets = list(_NAMED_TARGETS.items())
        sql = " UNION ALL ".join(
            f"SELECT {rank}, id, {column}::text FROM {_table(target)} WHERE id = ANY(%s::bigint[])"
            for rank, (target, column) in enumerate(targets)
        )
        by_model: dict[type[models.Model], dict[int, str]] = {target: {} for target, _ in targets}
        with connection.cursor() as cursor:
            cursor.execute(sql, [sorted(wanted[target]) for target, _ in targets])
            for rank, pk, label in cursor.fetchall():
                by_model[targets[rank][0]][pk] = label
        return cls(by_model=by_model)

    def name(self, target: type[models.Model], pk: int) -> str:
        return self.by_model.get(target, {}).get(pk, f"#{pk}")


def _model_field(model: type[models.Model], attname: str) -> models.Field:
    # Concrete fields only, looked up by attname (household_id) as the event rows carry them.
    return next(f for f in model._meta.concrete_fields if f.attname == attname)


def _related_model(model: type[models.Model], attname: str) -> type[models.Model] | None:
    model_field = _model_field(model, attname)
    target = model_field.related_model if model_field.is_relation else None
    if target is None:
        return None
    target = target._meta.concrete_model
    return target if target in _NAMED_TARGETS else None


def _display(model: type[models.Model], attname: str, value: Any, names: _Names) -> str | None:
    """A value as the pages show it: masked numbers, choice labels, names, local times."""
    if not _is_set(value):
        return None
    if attname in _MASKS:
        return _MASKS[attname](str(value))
    model_field = _model_field(model, attname)
    target = _related_model(model, attname)
    if target is not None:
        return names.name(target, int(value))
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, models.BooleanField):
        return gettext("Yes") if value else gettext("No")
    if isinstance(model_field, models.DateTimeField):
        moment = parse_datetime(str(value))
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else str(value)
    return str(value)


def _object_label(row: _TimelineRow) -> str:
    """Which record of the person the event is about: the scheme, the year, the group…"""
    data = row.data
    key = row.subject.key
    if key == "household":
        return str(data.get("number") or "")
    if key == "special_group":
        return str(dict(SpecialGroup.choices).get(data.get("category"), data.get("category") or ""))
    if key in ("enrollment", "account"):
        return str(dict(Scheme.choices).get(data.get("scheme"), data.get("scheme") or ""))
    if key == "contribution":
        scheme = str(dict(Scheme.choices).get(row.hint, row.hint or ""))
        start = str(data.get("period_start") or "")
        period = start[:4] if data.get("period_kind") == PeriodKind.YEAR else start[:7]
        return f"{scheme} {period}".strip()
    return ""


def _via(metadata: dict[str, Any]) -> list[TimelineVia]:
    """The request, task, import batch or command a change came through (HistoryContextMiddleware,
    socialsec.celery.ContextTask, socialsec.imports.services.import_commit, import_file)."""
    via = []
    batch_id = metadata.get("import_batch")
    if isinstance(batch_id, int):
        from socialsec.imports.kinds import get_kind  # the import pipeline sits above the registry

        kind = get_kind(str(metadata.get("import_kind") or ""))
        label = str(kind.label) if kind is not None else str(metadata.get("import_kind") or "")
        via.append(TimelineVia(kind="import", text=label, import_batch_id=batch_id))
    if metadata.get("task"):
        via.append(TimelineVia(kind="task", text=str(metadata["task"])))
    if metadata.get("command"):
        via.append(TimelineVia(kind="command", text=str(metadata["command"])))
    if metadata.get("url"):
        via.append(
            TimelineVia(kind="request", text=f"{metadata.get('method') or ''} {metadata['url']}".strip())
        )
    return via


def _entry(row: _TimelineRow, names: _Names) -> TimelineEntry:
    model = row.subject.model
    label = row.subject.insert_label if row.event == "insert" else EVENT_LABELS.get(row.event, row.event)
    return TimelineEntry(
        at=row.at,
        subject=row.subject.key,
        subject_label=capfirst(str(model._meta.verbose_name)),
        object_label=_object_label(row),
        event=row.event,
        label=str(label),
        by=row.user,
        changed=[
            FieldChange(
                field=capfirst(str(_model_field(model, name).verbose_name)),
                old=_display(model, name, old, names),
                new=_display(model, name, new, names),
            )
            for name, old, new in row.changed_fields()
        ],
        via=_via(row.metadata),
        note=str(row.metadata.get("note") or ""),
    )


# --- Organizations and fee relief (clerk pages) ------------------------------------------------


def organization_search(
    *, user: User | AnonymousUser, query: str = "", size_class: str = ""
) -> OrganizationQuerySet:
    """Organizations the user may see, newest first: a name prefix or credit code, one size class.

    Callers page by keyset on id; nothing here counts the whole set.
    """
    organizations = Organization.objects.visible_to(user).select_related("township").search(query)
    if size_class:
        organizations = organizations.filter(size_class=size_class)
    return organizations.order_by("-id")


def fee_relief_applications_of(
    organization: Organization, *, user: User | AnonymousUser
) -> FeeReliefApplicationQuerySet:
    """The organization's applications the user may see, newest months first, with who filed and decided."""
    return (
        FeeReliefApplication.objects.visible_to(user)
        .filter(organization=organization)
        .select_related("policy", "filed_by", "decided_by")
        .order_by("-period_from", "-id")
    )


def fee_relief_policies_for(organization: Organization) -> list[FeeReliefPolicy]:
    """Policies that cover the organization, by the model's own rule (covers_organization)."""
    candidates = FeeReliefPolicy.objects.filter(size_classes__contains=[organization.size_class])
    return [policy for policy in candidates if policy.covers_organization(organization)]


def fee_relief_waiting_for(*, user: User | AnonymousUser) -> FeeReliefApplicationQuerySet:
    """FILED applications in the user's townships that someone other than their filer must decide.

    Oldest first: the one waiting longest is at the top. Callers page by keyset on id.
    """
    applications = FeeReliefApplication.objects.visible_to(user).filter(status=FeeReliefStatus.FILED)
    if user.is_authenticated:
        applications = applications.exclude(filed_by_id=user.pk)  # nobody decides their own filing
    return applications.select_related("organization", "policy", "filed_by").order_by("id")


# --- Personal accounts and contribution years (DOMAIN §1.2, §1.6, §8.1) --------------------------


@dataclass(frozen=True)
class AccountSummary:
    """One personal account with the contribution years recorded in its scheme."""

    account: PersonalAccount
    contribution_years: Decimal


def person_accounts(
    person: Person, *, contribution_years: list[ContributionYear] | None = None
) -> list[AccountSummary]:
    """The person's personal accounts, one per pension scheme, with their contribution years.

    A year record counts as a year, a month record as a twelfth (DOMAIN §8.1: residents
    pay by year, employees by month). Two queries, however many records; one when the
    caller already holds person_contribution_years, whose rows are counted instead. The
    caller has passed the person through visible_to (accounts are scoped by their person's
    township).
    """
    periods: dict[tuple[str, str], int] = {}
    if contribution_years is None:
        periods = {
            (row["enrollment__scheme"], row["period_kind"]): row["count"]
            for row in ContributionRecord.objects.filter(enrollment__person=person)
            .values("enrollment__scheme", "period_kind")
            .annotate(count=Count("id"))
            .order_by()
        }
    else:
        for year in contribution_years:
            key = (year.scheme, year.period_kind)
            periods[key] = periods.get(key, 0) + year.periods
    accounts = PersonalAccount.objects.filter(person=person).order_by("scheme")
    return [
        AccountSummary(
            account=account,
            contribution_years=Decimal(periods.get((account.scheme, PeriodKind.YEAR), 0))
            + Decimal(periods.get((account.scheme, PeriodKind.MONTH), 0)) / 12,
        )
        for account in accounts
    ]


def personal_account_for(*, person_id: int, user: User | AnonymousUser) -> list[AccountSummary]:
    """person_accounts of a person the user may see; NotVisible (404) otherwise, like a missing one."""
    return person_accounts(get_visible_or_404(Person.objects, user, pk=person_id))


@dataclass(frozen=True)
class SameYearOverlap:
    """DOMAIN §1.6 Art 7: months of a year paid to both the resident and the employee pension."""

    year: int
    resident_record: ContributionRecord
    overlapping_months: int
    # The resident personal contribution and collective subsidy for those months, to refund.
    refund: Decimal


def same_year_overlap(*, person_id: int, year: int, user: User | AnonymousUser) -> SameYearOverlap | None:
    """The overlap of a year (E8), or None when the person did not pay both schemes that year.

    The overlapping months count for the employee scheme only; the resident personal part
    and collective subsidy for them are refunded, pro rata by month (DOMAIN E8: pro-rating
    is unconfirmed), rounded by `general.money.rounding_mode`. The government subsidy is not
    refunded. This reads; the refund itself is a later service.
    """
    person = get_visible_or_404(Person.objects, user, pk=person_id)
    resident = (
        ContributionRecord.objects.filter(
            enrollment__person=person, enrollment__scheme=Scheme.RESIDENT_PENSION, period_kind=PeriodKind.YEAR
        )
        .in_year(year)
        .select_related("enrollment")
        .first()
    )
    if resident is None:
        return None
    months = (
        ContributionRecord.objects.filter(
            enrollment__person=person,
            enrollment__scheme=Scheme.EMPLOYEE_PENSION,
            period_kind=PeriodKind.MONTH,
        )
        .in_year(year)
        .count()
    )
    if not months:
        return None
    mode = param(
        "general.money.rounding_mode", resident.enrollment.pooling_area, dt.date(year, 12, 31)
    ).text()
    refund = round_money((resident.personal_amount + resident.collective_amount) * months / 12, mode)
    return SameYearOverlap(year=year, resident_record=resident, overlapping_months=months, refund=refund)
