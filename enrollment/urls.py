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
