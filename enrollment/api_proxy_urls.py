"""/api/proxy-payment-rosters/…: included by socialsec/api_urls.py (issue 4; DOMAIN §1.3)."""

from django.urls import path

from enrollment.api import proxy_payment as api

urlpatterns = [
    path("proxy-payment-rosters/", api.ProxyPaymentRosterListApi.as_view(), name="api-proxy-roster-list"),
    path(
        "proxy-payment-rosters/<int:pk>/",
        api.ProxyPaymentRosterDetailApi.as_view(),
        name="api-proxy-roster-detail",
    ),
    path(
        "proxy-payment-rosters/<int:pk>/lines/",
        api.ProxyPaymentRosterLinesApi.as_view(),
        name="api-proxy-roster-lines",
    ),
    *(
        path(f"proxy-payment-rosters/<int:pk>/{step}/", view.as_view(), name=f"api-proxy-roster-{step}")
        for step, view in api.STEP_VIEWS.items()
    ),
]
