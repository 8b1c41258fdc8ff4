"""/rosters/<id>/print/: the printable roster (included by socialsec/urls.py)."""

from django.urls import path

from benefits import views_print

app_name = "benefits_print"
urlpatterns = [
    path("<int:pk>/print/", views_print.roster_print, name="roster_print"),
]
