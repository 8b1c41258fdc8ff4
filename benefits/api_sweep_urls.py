"""/api/sweeps/… and /api/work-items/…: included by socialsec/api_urls.py."""

from django.urls import path

from benefits import api_sweep

urlpatterns = [
    path("sweeps/", api_sweep.SweepRunListCreateApi.as_view(), name="api-sweep-list"),
    path("sweeps/<int:pk>/", api_sweep.SweepRunDetailApi.as_view(), name="api-sweep-detail"),
    path("work-items/", api_sweep.WorkItemListApi.as_view(), name="api-work-item-list"),
    path("work-items/<int:pk>/", api_sweep.WorkItemDetailApi.as_view(), name="api-work-item-detail"),
    path("work-items/<int:pk>/close/", api_sweep.WorkItemCloseApi.as_view(), name="api-work-item-close"),
]
