"""Registry endpoints. Every view is a TownshipScopedApi: rows pass visible_to first.

One module per sub-domain; socialsec/api_urls.py reads the views from here.
"""

from enrollment.api.coverage import (
    CoverageOverviewApi,
    CoverageTownshipApi,
    CoverageTownshipNotEnrolledApi,
    CoverageVillageNotEnrolledApi,
)
from enrollment.api.enrollments import (
    ContributionListApi,
    EnrollmentDetailApi,
    EnrollmentListApi,
    EnrollmentResumeApi,
    EnrollmentSuspendApi,
    EnrollmentTerminateApi,
    PersonAccountApi,
)
from enrollment.api.households import HouseholdDetailApi, HouseholdListApi
from enrollment.api.organizations import (
    FeeReliefApproveApi,
    FeeReliefDetailApi,
    FeeReliefListApi,
    FeeReliefPolicyListApi,
    FeeReliefRefuseApi,
    OrganizationDetailApi,
    OrganizationListApi,
)
from enrollment.api.persons import (
    PersonCategoriesApi,
    PersonCategoryEndApi,
    PersonCategoryListApi,
    PersonConfirmAddressCodeApi,
    PersonDetailApi,
    PersonListApi,
    PersonRecordDeathApi,
    PersonTimelineApi,
    PersonUnmaskApi,
    PersonUnmaskBankAccountApi,
)

__all__ = [
    "ContributionListApi",
    "CoverageOverviewApi",
    "CoverageTownshipApi",
    "CoverageTownshipNotEnrolledApi",
    "CoverageVillageNotEnrolledApi",
    "EnrollmentDetailApi",
    "EnrollmentListApi",
    "EnrollmentResumeApi",
    "EnrollmentSuspendApi",
    "EnrollmentTerminateApi",
    "FeeReliefApproveApi",
    "FeeReliefDetailApi",
    "FeeReliefListApi",
    "FeeReliefPolicyListApi",
    "FeeReliefRefuseApi",
    "HouseholdDetailApi",
    "HouseholdListApi",
    "OrganizationDetailApi",
    "OrganizationListApi",
    "PersonAccountApi",
    "PersonCategoriesApi",
    "PersonCategoryEndApi",
    "PersonCategoryListApi",
    "PersonConfirmAddressCodeApi",
    "PersonDetailApi",
    "PersonListApi",
    "PersonRecordDeathApi",
    "PersonTimelineApi",
    "PersonUnmaskApi",
    "PersonUnmaskBankAccountApi",
]
