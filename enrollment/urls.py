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
