"""manage.py import_file KIND PATH: the clerks' import from the command line, same rules, all or nothing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pghistory
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from socialsec.core.choices import DivisionLevel
from socialsec.core.exceptions import DomainError
from socialsec.core.models import AdministrativeDivision, User
from socialsec.imports import services
from socialsec.imports.choices import ImportStatus
from socialsec.imports.kinds import get_kind
from socialsec.imports.messages import error_message, failure_message
from socialsec.imports.models import ImportBatch, ImportRowError


class Command(BaseCommand):
    help = (
        "Import a spreadsheet (xlsx or csv) of one kind, e.g. death_records. Every row is checked; "
        "with any bad row nothing is imported, the rows are printed and the exit status is 1."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("kind", help="kind of list, e.g. death_records")
        parser.add_argument("path", help="the xlsx or csv file")
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--township", metavar="CODE", help="12-digit code of the township the list is for")
        where.add_argument("--county", action="store_true", help="a list for the whole county")
        parser.add_argument("--user", required=True, metavar="USERNAME", help="the staff member importing")
        parser.add_argument("--yes", action="store_true", help="import without asking once the check passes")
        parser.add_argument("--language", choices=["zh-hans", "en"], default="zh-hans")

    def handle(self, *args: Any, **options: Any) -> None:
        # Only for this command: call_command from code or tests must get its own language back.
        with translation.override(options["language"]):
            self._import(**options)

    def _import(self, **options: Any) -> None:
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(_("No active user %(name)s.") % {"name": options["user"]})
        township_id = None
        if options["township"]:
            township_id = (
                AdministrativeDivision.objects.filter(code=options["township"], level=DivisionLevel.TOWNSHIP)
                .values_list("pk", flat=True)
                .first()
            )
            if township_id is None:
                raise CommandError(_("No township with the code %(code)s.") % {"code": options["township"]})
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(_("No file at %(path)s.") % {"path": path})

        # The audit trail names the command and the user, as a request would.
        with pghistory.context(user=user.pk, command="import_file"):
            try:
                batch = services.import_upload(
                    kind=options["kind"], uploaded_file=path, township_id=township_id, by=user, schedule=False
                )
                services.import_validate(batch_id=batch.pk)
                batch = ImportBatch.objects.get(pk=batch.pk)
                if batch.status != ImportStatus.VALIDATED:
                    self._print_errors(batch)
                    raise CommandError(
                        _("Batch %(id)s: %(bad)s of %(total)s rows are bad; nothing was imported.")
                        % {"id": batch.pk, "bad": batch.rows_invalid, "total": batch.rows_total}
                    )
                if not options["yes"] and sys.stdin.isatty():
                    answer = input(
                        _("All %(rows)s rows are correct. Import them? [y/N] ") % {"rows": batch.rows_total}
                    )
                    if answer.strip().lower() not in ("y", "yes", "是"):
                        services.import_cancel(batch_id=batch.pk, by=user)
                        raise CommandError(_("Not imported; batch %(id)s was cancelled.") % {"id": batch.pk})
                services.import_confirm(batch_id=batch.pk, by=user, schedule=False)
                services.import_commit(batch_id=batch.pk)
            except DomainError as error:
                raise CommandError(str(error.message)) from error
        batch = ImportBatch.objects.get(pk=batch.pk)
        if batch.status != ImportStatus.COMMITTED:
            self._print_errors(batch)
            raise CommandError(f"{failure_message(batch.failure_code)} (#{batch.pk})")
        self.stdout.write(
            _(
                "Batch %(id)s imported: %(rows)s rows, %(updated)s records changed, "
                "%(unchanged)s already up to date."
            )
            % {
                "id": batch.pk,
                "rows": batch.summary.get("rows", 0),
                "updated": batch.summary.get("updated", 0) + batch.summary.get("inserted", 0),
                "unchanged": batch.summary.get("unchanged", 0),
            }
        )

    def _print_errors(self, batch: ImportBatch) -> None:
        kind = get_kind(batch.kind)
        for row, column, value, code, params in (
            ImportRowError.objects.filter(batch=batch)
            .order_by("row", "id")
            .values_list("row", "column", "value", "code", "params")
            .iterator(chunk_size=2000)
        ):
            reason = error_message(kind, code, params, value)
            if row == 0:
                self.stdout.write(_("file: %(reason)s") % {"reason": reason})
            else:
                self.stdout.write(
                    _("row %(row)s, column %(column)s, value %(value)s: %(reason)s")
                    % {"row": row, "column": column, "value": value, "reason": reason}
                )
