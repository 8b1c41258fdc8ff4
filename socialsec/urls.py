"""URLconf. Every view is township-scoped or on the allow-list in tests/core/test_scoping.py."""

from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    path("", include("socialsec.core.urls")),
    path("persons/", include("enrollment.urls")),
    path("imports/", include("socialsec.imports.urls")),
    path("rosters/", include("benefits.urls_print")),
    path("rosters/", include("benefits.urls")),
    path("sweeps/", include("benefits.urls_sweep")),
    path("api/", include("socialsec.api_urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
]
