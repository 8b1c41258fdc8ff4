from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    verbose_name = _("Enrollment and registry")

    def ready(self) -> None:
        from enrollment.receivers import refresh_coverage_after_import
        from socialsec.imports.signals import import_committed

        # Imports of death lists, enrollments … change the coverage figures: refresh them after.
        import_committed.connect(refresh_coverage_after_import, dispatch_uid="enrollment.coverage_refresh")
