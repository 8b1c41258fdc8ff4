"""The Django admin for the `admin` role: users, their township assignments, divisions.

No township data is registered here: persons and rosters are worked in the scoped pages.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.utils.translation import gettext_lazy as _

from socialsec.core.models import AdministrativeDivision, PolicyParameter, TownshipAssignment, User


class TownshipAssignmentInline(admin.TabularInline):
    model = TownshipAssignment
    extra = 1
    autocomplete_fields = ["township"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [TownshipAssignmentInline]
    list_display = ["username", "last_name", "first_name", "county_wide", "is_active", "last_login"]
    list_filter = ["county_wide", "is_active", "groups"]
    # Superuser status is not offered: a superuser passes every permission check,
    # segregation of duties included.
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Personal info"), {"fields": ["last_name", "first_name", "email"]}),
        (_("Roles and scope"), {"fields": ["groups", "county_wide", "is_active", "is_staff"]}),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    readonly_fields = ["last_login", "date_joined"]


@admin.register(AdministrativeDivision)
class AdministrativeDivisionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "kind", "parent", "valid_from", "valid_to"]
    list_filter = ["level", "kind"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]
    # The kind follows from the code (DOMAIN §6.3); it is not typed by hand.
    readonly_fields = ["kind"]
    raw_id_fields = ["parent"]

    def save_model(self, request, obj, form, change):
        from socialsec.lib.divisions import division_level_and_kind

        obj.level, obj.kind = division_level_and_kind(obj.code)
        super().save_model(request, obj, form, change)


@admin.register(PolicyParameter)
class PolicyParameterAdmin(admin.ModelAdmin):
    """Admins add and correct policy parameters; pghistory records every version with its user.

    A new figure is a new row: close the old row (its last day in force) and add one from the
    next day, so calculations that used the old row still point at what they used.
    """

    list_display = ["key", "region_code", "value", "unit", "effective_from", "effective_to", "confidence"]
    list_filter = ["scheme", "confidence", "region_code"]
    search_fields = ["key", "region_code", "source_doc_no", "note"]
    ordering = ["key", "region_code", "effective_from"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["scheme", "key", "region_code"]}),
        (_("Value"), {"fields": ["kind", "value", "unit"]}),
        (_("In force"), {"fields": ["effective_from", "effective_to"]}),
        (_("Source"), {"fields": ["source_tag", "source_doc_no", "source_url", "confidence", "note"]}),
    ]
