"""The Django admin for the `admin` role: fee-relief policies only, which are county-wide reference data.

Organizations and applications are township data: they are worked in the scoped pages and the API.
"""

from django.contrib import admin

from enrollment.models import FeeReliefPolicy


@admin.register(FeeReliefPolicy)
class FeeReliefPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "period_from", "period_to", "rate", "max_deferral_months", "region_code"]
    list_filter = ["kind", "region_code", "confidence"]
    search_fields = ["name", "source_doc_no"]
