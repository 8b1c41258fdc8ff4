"""/rosters/…: the clerk pages of the payout rosters (issue 4 "Screens and API")."""

from django.urls import path

from benefits import views

app_name = "benefits"
urlpatterns = [
    path("", views.roster_list, name="roster_list"),
    path("generate/", views.roster_generate, name="roster_generate"),
    path("<int:pk>/", views.roster_detail, name="roster_detail"),
    path("<int:pk>/<slug:step>/", views.roster_step, name="roster_step"),
]
