from django.urls import path

from socialsec.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.batch_list, name="batch_list"),
    path("new/", views.batch_upload, name="batch_upload"),
    path("<int:pk>/", views.batch_detail, name="batch_detail"),
    path("<int:pk>/progress/", views.batch_progress, name="batch_progress"),
    path("<int:pk>/errors/", views.batch_errors, name="batch_errors"),
    path("<int:pk>/errors.xlsx", views.batch_errors_xlsx, name="batch_errors_xlsx"),
    path("<int:pk>/confirm/", views.batch_confirm, name="batch_confirm"),
    path("<int:pk>/cancel/", views.batch_cancel, name="batch_cancel"),
    path("templates/<slug:kind>.xlsx", views.kind_template, name="kind_template"),
]
