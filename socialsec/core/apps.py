from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "socialsec.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from socialsec.core import audit, roles

        # Every audit event table refuses TRUNCATE too (UPDATE/DELETE: PGHISTORY_APPEND_ONLY).
        audit.guard_event_tables()

        # Groups and their permissions follow the code after every migrate. Each app's
        # permissions exist only after its own post_migrate, so sync after every app.
        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="socialsec.sync_roles")
