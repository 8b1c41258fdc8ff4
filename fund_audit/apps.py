from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FundAuditConfig(AppConfig):
    name = "fund_audit"
    verbose_name = _("Fund audit")
