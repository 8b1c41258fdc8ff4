"""/api/rosters/…: included by socialsec/api_urls.py."""

from django.urls import path

from benefits import api

urlpatterns = [
    path("rosters/", api.PayoutRosterListCreateApi.as_view(), name="api-roster-list"),
    path("rosters/<int:pk>/", api.PayoutRosterDetailApi.as_view(), name="api-roster-detail"),
    path("rosters/<int:pk>/lines/", api.PayoutRosterLinesApi.as_view(), name="api-roster-lines"),
    *(
        path(f"rosters/<int:pk>/{step}/", view.as_view(), name=f"api-roster-{step}")
        for step, view in api.STEP_VIEWS.items()
    ),
    path("entitlements/", api.EntitlementListApi.as_view(), name="api-entitlement-list"),
    path("entitlements/<int:pk>/", api.EntitlementDetailApi.as_view(), name="api-entitlement-detail"),
    *(
        path(f"entitlements/<int:pk>/{step}/", view.as_view(), name=f"api-entitlement-{step}")
        for step, view in api.ENTITLEMENT_STEP_VIEWS.items()
    ),
]

# Files of a roster (issue 4 "Payment"; benefits/api_export.py).
from benefits import api_export  # noqa: E402

urlpatterns += [
    path(
        "rosters/<int:pk>/bank-file/",
        api_export.PayoutRosterBankFileApi.as_view(),
        name="api-roster-bank-file",
    ),
    path(
        "rosters/<int:pk>/bank-receipt/",
        api_export.PayoutRosterBankReceiptApi.as_view(),
        name="api-roster-bank-receipt",
    ),
    path(
        "rosters/<int:pk>/failed-lines/",
        api_export.PayoutRosterFailedLinesApi.as_view(),
        name="api-roster-failed-lines",
    ),
    path(
        "rosters/<int:pk>/roster-file/",
        api_export.PayoutRosterRosterFileApi.as_view(),
        name="api-roster-roster-file",
    ),
    path(
        "rosters/<int:pk>/exports/<str:token>/",
        api_export.PayoutRosterExportStatusApi.as_view(),
        name="api-roster-export-status",
    ),
    path(
        "rosters/<int:pk>/exports/<str:token>/file/",
        api_export.PayoutRosterExportFileApi.as_view(),
        name="api-roster-export-file",
    ),
]
