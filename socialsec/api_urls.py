"""The /api/ URLconf. Township data goes through TownshipScopedApi views only."""

from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.authtoken.views import obtain_auth_token

from enrollment import api as enrollment_api
from socialsec.core import api_views as core_api

# Swagger UI styles itself inline; allow that on the docs page only.
_docs_view = csp_update({"style-src": ["'self'", "'unsafe-inline'"], "img-src": ["'self'", "data:"]})(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema")
)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", _docs_view, name="api-docs"),
    path("auth/token/", obtain_auth_token, name="api-token"),
    path("me/", core_api.MeApi.as_view(), name="api-me"),
    path("divisions/", core_api.DivisionListApi.as_view(), name="api-divisions"),
    path("persons/", enrollment_api.PersonListApi.as_view(), name="api-person-list"),
    path("persons/<int:pk>/", enrollment_api.PersonDetailApi.as_view(), name="api-person-detail"),
    path("persons/<int:pk>/unmask/", enrollment_api.PersonUnmaskApi.as_view(), name="api-person-unmask"),
    path("persons/<int:pk>/death/", enrollment_api.PersonRecordDeathApi.as_view(), name="api-person-death"),
    path(
        "persons/<int:pk>/unmask-bank-account/",
        enrollment_api.PersonUnmaskBankAccountApi.as_view(),
        name="api-person-unmask-bank-account",
    ),
    path(
        "persons/<int:pk>/confirm-address-code/",
        enrollment_api.PersonConfirmAddressCodeApi.as_view(),
        name="api-person-confirm-address-code",
    ),
    path(
        "persons/<int:pk>/categories/",
        enrollment_api.PersonCategoriesApi.as_view(),
        name="api-person-categories",
    ),
    path(
        "person-categories/", enrollment_api.PersonCategoryListApi.as_view(), name="api-person-category-list"
    ),
    path(
        "person-categories/<int:pk>/end/",
        enrollment_api.PersonCategoryEndApi.as_view(),
        name="api-person-category-end",
    ),
    path("organizations/", enrollment_api.OrganizationListApi.as_view(), name="api-organization-list"),
    path(
        "organizations/<int:pk>/",
        enrollment_api.OrganizationDetailApi.as_view(),
        name="api-organization-detail",
    ),
    path("fee-relief/", enrollment_api.FeeReliefListApi.as_view(), name="api-fee-relief-list"),
    path("fee-relief/<int:pk>/", enrollment_api.FeeReliefDetailApi.as_view(), name="api-fee-relief-detail"),
    path(
        "fee-relief/<int:pk>/approve/",
        enrollment_api.FeeReliefApproveApi.as_view(),
        name="api-fee-relief-approve",
    ),
    path(
        "fee-relief/<int:pk>/refuse/",
        enrollment_api.FeeReliefRefuseApi.as_view(),
        name="api-fee-relief-refuse",
    ),
    path(
        "fee-relief-policies/",
        enrollment_api.FeeReliefPolicyListApi.as_view(),
        name="api-fee-relief-policies",
    ),
    path("enrollments/", enrollment_api.EnrollmentListApi.as_view(), name="api-enrollment-list"),
    path("enrollments/<int:pk>/", enrollment_api.EnrollmentDetailApi.as_view(), name="api-enrollment-detail"),
    path(
        "enrollments/<int:pk>/suspend/",
        enrollment_api.EnrollmentSuspendApi.as_view(),
        name="api-enrollment-suspend",
    ),
    path(
        "enrollments/<int:pk>/resume/",
        enrollment_api.EnrollmentResumeApi.as_view(),
        name="api-enrollment-resume",
    ),
    path(
        "enrollments/<int:pk>/terminate/",
        enrollment_api.EnrollmentTerminateApi.as_view(),
        name="api-enrollment-terminate",
    ),
    path("contributions/", enrollment_api.ContributionListApi.as_view(), name="api-contribution-list"),
    path("persons/<int:pk>/account/", enrollment_api.PersonAccountApi.as_view(), name="api-person-account"),
    path(
        "persons/<int:pk>/timeline/", enrollment_api.PersonTimelineApi.as_view(), name="api-person-timeline"
    ),
    path("households/", enrollment_api.HouseholdListApi.as_view(), name="api-household-list"),
    path("households/<int:pk>/", enrollment_api.HouseholdDetailApi.as_view(), name="api-household-detail"),
    path("coverage/", enrollment_api.CoverageOverviewApi.as_view(), name="api-coverage"),
    path(
        "coverage/townships/<int:pk>/",
        enrollment_api.CoverageTownshipApi.as_view(),
        name="api-coverage-township",
    ),
    path(
        "coverage/townships/<int:pk>/not-enrolled/",
        enrollment_api.CoverageTownshipNotEnrolledApi.as_view(),
        name="api-coverage-township-not-enrolled",
    ),
    path(
        "coverage/villages/<int:pk>/not-enrolled/",
        enrollment_api.CoverageVillageNotEnrolledApi.as_view(),
        name="api-coverage-village-not-enrolled",
    ),
    path("", include("socialsec.imports.api_urls")),
    path("", include("benefits.api_urls")),
    path("", include("benefits.api_sweep_urls")),
    path("", include("enrollment.api_proxy_urls")),
]
