"""/sweeps/…: the pages of the monthly sweep and its work items (issue 4 "Screens and API")."""

from django.urls import path

from benefits import views_sweep

app_name = "sweeps"
urlpatterns = [
    path("", views_sweep.run_list, name="run_list"),
    path("start/", views_sweep.run_start, name="run_start"),
    path("<int:pk>/progress/", views_sweep.run_progress, name="run_progress"),
    path("work-items/", views_sweep.work_item_list, name="work_item_list"),
    path("work-items/<int:pk>/close/", views_sweep.work_item_close, name="work_item_close"),
]
