"""/api/rosters/…: included by socialsec/api_urls.py."""

from django.urls import path

from benefits import api

urlpatterns = [
    path("rosters/", api.PayoutRosterListApi.as_view(), name="api-roster-list"),
    path("rosters/<int:pk>/", api.PayoutRosterDetailApi.as_view(), name="api-roster-detail"),
    path("rosters/<int:pk>/lines/", api.PayoutRosterLinesApi.as_view(), name="api-roster-lines"),
    *(
        path(f"rosters/<int:pk>/{step}/", view.as_view(), name=f"api-roster-{step}")
        for step, view in api.STEP_VIEWS.items()
    ),
]
