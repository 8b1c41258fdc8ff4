"""The main navigation, declared once, and the filter that picks what one user may see.

Each item names a URL and what it needs: a permission, one of several roles, or
nothing beyond being logged in. Hiding a link is a courtesy, not a control: the
view behind it still checks the same permission and scopes its rows.
Later apps append their pages to NAVIGATION.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import pgettext_lazy

from socialsec.core.choices import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from socialsec.core.models import User


# Where the home page's work queues get their items: `source(user, role) -> list`, one query each.
# Dotted paths, read when a page is drawn, so core never imports an app (STYLE §3a).
WORK_QUEUE_SOURCES: list[str] = ["benefits.selectors.roster_work_queue"]


@dataclass(frozen=True)
class NavItem:
    label: Promise | str
    url_name: str
    # Shown when the user holds this permission ...
    permission: str | None = None
    # ... or any of these roles; with neither, every logged-in user sees the item.
    roles: tuple[str, ...] = ()
    # A bootstrap-icons name, e.g. "people".
    icon: str = ""

    def allows(self, user: User) -> bool:
        if self.permission and not user.has_perm(self.permission):
            return False
        return not self.roles or user.has_role(*self.roles)


@dataclass(frozen=True)
class NavLink:
    """One item as the template draws it."""

    label: Promise | str
    url: str
    icon: str
    active: bool


# "navigation" context: a short label that fits the top bar.
NAVIGATION: list[NavItem] = [
    NavItem(pgettext_lazy("navigation", "Work queue"), "home", icon="inbox"),
    NavItem(
        pgettext_lazy("navigation", "Persons"),
        "enrollment:person_list",
        permission="enrollment.view_person",
        icon="people",
    ),
    NavItem(
        pgettext_lazy("navigation", "Coverage"),
        "enrollment:coverage_overview",
        permission="enrollment.view_person",
        icon="pie-chart",
    ),
    NavItem(
        pgettext_lazy("navigation", "Organizations"),
        "enrollment:organization_list",
        permission="enrollment.view_organization",
        icon="building",
    ),
    NavItem(
        pgettext_lazy("navigation", "Fee relief decisions"),
        "enrollment:fee_relief_inbox",
        permission="enrollment.decide_feereliefapplication",
        icon="clipboard-check",
    ),
    NavItem(
        pgettext_lazy("navigation", "Payout rosters"),
        "benefits:roster_list",
        permission="benefits.view_payoutroster",
        icon="journal-check",
    ),
    NavItem(
        pgettext_lazy("navigation", "Monthly sweep"),
        "sweeps:run_list",
        permission="benefits.view_sweeprun",
        icon="arrow-repeat",
    ),
    NavItem(
        pgettext_lazy("navigation", "Work items"),
        "sweeps:work_item_list",
        permission="benefits.view_workitem",
        icon="list-check",
    ),
    NavItem(
        pgettext_lazy("navigation", "Imports"),
        "imports:batch_list",
        permission="imports.view_importbatch",
        icon="file-earmark-arrow-up",
    ),
    NavItem(pgettext_lazy("navigation", "Administration"), "admin:index", roles=(Role.ADMIN,), icon="gear"),
]


def navigation_for(user: User | AnonymousUser, current_path: str = "") -> list[NavLink]:
    """The items this user may see, in declared order; nothing for an anonymous visitor."""
    if not user.is_authenticated or not user.is_active:
        return []
    allowed = [(item, reverse(item.url_name)) for item in NAVIGATION if item.allows(user)]
    # The home page is "/", a prefix of every path, so it is active only on itself; of the
    # other items, the longest URL the path starts with wins (/persons/organizations/ is not
    # also "Persons").
    matching = [url for _item, url in allowed if url != "/" and current_path.startswith(url)]
    current = max(matching, key=len) if matching else ("/" if current_path == "/" else None)
    return [
        NavLink(label=item.label, url=url, icon=item.icon, active=url == current) for item, url in allowed
    ]


def work_queue_items(user: User, role: str) -> list:
    """What waits for this role, from every source; an empty list when nothing does."""
    items: list = []
    for source in WORK_QUEUE_SOURCES:
        items.extend(import_string(source)(user, role))
    return items
