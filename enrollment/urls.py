from django.urls import path

from enrollment import views

app_name = "enrollment"
urlpatterns = [
    path("", views.person_list, name="person_list"),
    path("<int:pk>/", views.person_detail, name="person_detail"),
    path("<int:pk>/unmask/", views.person_unmask_id_number, name="person_unmask_id_number"),
    path(
        "<int:pk>/unmask-bank-account/",
        views.person_unmask_bank_account,
        name="person_unmask_bank_account",
    ),
    path(
        "<int:pk>/confirm-address-code/",
        views.person_confirm_address_code,
        name="person_confirm_address_code",
    ),
]

# Organizations and their fee-relief (减免缓) applications.
urlpatterns += [
    path("organizations/", views.organization_list, name="organization_list"),
    path("organizations/new/", views.organization_register, name="organization_register"),
    path("organizations/<int:pk>/", views.organization_detail, name="organization_detail"),
    path("organizations/<int:pk>/fee-relief/", views.fee_relief_file, name="fee_relief_file"),
    path("fee-relief/", views.fee_relief_inbox, name="fee_relief_inbox"),
    path("fee-relief/<int:pk>/", views.fee_relief_detail, name="fee_relief_detail"),
    path("fee-relief/<int:pk>/approve/", views.fee_relief_approve, name="fee_relief_approve"),
    path("fee-relief/<int:pk>/refuse/", views.fee_relief_refuse, name="fee_relief_refuse"),
]

# Coverage (全民参保): townships → villages, and the not-yet-enrolled of one of them.
urlpatterns += [
    path("coverage/", views.coverage_overview, name="coverage_overview"),
    path("coverage/township/<int:pk>/", views.coverage_township, name="coverage_township"),
    path(
        "coverage/village/<int:pk>/not-enrolled/",
        views.coverage_not_enrolled,
        {"level": "village"},
        name="coverage_village_not_enrolled",
    ),
    path(
        "coverage/village/<int:pk>/not-enrolled.xlsx",
        views.coverage_not_enrolled_xlsx,
        {"level": "village"},
        name="coverage_village_not_enrolled_xlsx",
    ),
    path(
        "coverage/township/<int:pk>/not-enrolled/",
        views.coverage_not_enrolled,
        {"level": "township"},
        name="coverage_township_not_enrolled",
    ),
    path(
        "coverage/township/<int:pk>/not-enrolled.xlsx",
        views.coverage_not_enrolled_xlsx,
        {"level": "township"},
        name="coverage_township_not_enrolled_xlsx",
    ),
]
