"""The Django admin for the `admin` role: users, their township assignments, divisions.

No township data is registered here: persons and rosters are worked in the scoped pages.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from socialsec.core.models import AdministrativeDivision, TownshipAssignment, User


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
