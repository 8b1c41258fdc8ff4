"""Import endpoints, included under /api/ by socialsec/api_urls.py."""

from django.urls import path

from socialsec.imports import api

urlpatterns = [
    path("imports/", api.ImportBatchListApi.as_view(), name="api-import-list"),
    path("imports/<int:pk>/", api.ImportBatchDetailApi.as_view(), name="api-import-detail"),
    path("imports/<int:pk>/errors/", api.ImportRowErrorListApi.as_view(), name="api-import-errors"),
    path("imports/<int:pk>/errors.xlsx", api.ImportErrorWorkbookApi.as_view(), name="api-import-errors-xlsx"),
    path("imports/<int:pk>/confirm/", api.ImportConfirmApi.as_view(), name="api-import-confirm"),
    path("imports/<int:pk>/cancel/", api.ImportCancelApi.as_view(), name="api-import-cancel"),
    path("import-kinds/", api.ImportKindListApi.as_view(), name="api-import-kinds"),
]
