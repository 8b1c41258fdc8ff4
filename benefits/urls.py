"""/rosters/…: the clerk pages of the payout rosters (issue 4 "Screens and API")."""

from django.urls import path

from benefits import views, views_finance

app_name = "benefits"
urlpatterns = [
    path("", views.roster_list, name="roster_list"),
    path("generate/", views.roster_generate, name="roster_generate"),
    path("<int:pk>/", views.roster_detail, name="roster_detail"),
    # Finance (views_finance) before the step pattern, which would take "bank-receipt" for a step.
    path("<int:pk>/bank-file/", views_finance.bank_file, name="bank_file"),
    path("<int:pk>/bank-file/<str:token>/", views_finance.bank_file_export, name="bank_file_export"),
    path("<int:pk>/bank-receipt/", views_finance.bank_receipt, name="bank_receipt"),
    path("<int:pk>/<slug:step>/", views.roster_step, name="roster_step"),
]
