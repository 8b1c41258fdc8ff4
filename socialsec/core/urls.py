from django.urls import path

from socialsec.core import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
]
