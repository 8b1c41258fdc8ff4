from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    VALIDATING = "validating", _("Checking rows")
    VALIDATED = "validated", _("Ready to import")
    REJECTED = "rejected", _("Rejected: bad rows")
    COMMITTING = "committing", _("Importing")
    COMMITTED = "committed", _("Imported")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class ProgressStep(models.TextChoices):
    """What the worker is doing; the page shows it under the progress bar."""

    WAITING = "waiting", _("Waiting for a worker")
    READING = "reading", _("Reading the file")
    CHECKING = "checking", _("Checking each row")
    REGISTRY = "registry", _("Comparing with the registry")
    SAVING_ERRORS = "saving_errors", _("Saving the bad rows")
    CHECKED = "checked", _("Checked")
    IMPORTING = "importing", _("Writing to the registry")
    DONE = "done", _("Done")
    FAILED = "failed", _("Stopped")
