"""Clerk pages of the imports: the list, the upload form, and the batch page.

Every batch comes through visible_to (import_batches_for, get_visible_or_404), so another
township's batch is a 404; reading needs imports.view_importbatch, changing
imports.add_importbatch (403 otherwise), and the services check the same again.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from socialsec.core.exceptions import DomainError
from socialsec.core.scoping import get_visible_or_404
from socialsec.core.views import township_scoped, wants_partial
from socialsec.imports import services
from socialsec.imports.choices import ImportStatus
from socialsec.imports.forms import ImportUploadForm
from socialsec.imports.kinds import get_kind
from socialsec.imports.messages import failure_message
from socialsec.imports.models import ImportBatch
from socialsec.imports.selectors import (
    import_batches_for,
    import_error_rows,
    refuse_full_values,
    sees_full_values,
)

VIEW = "imports.view_importbatch"
ADD = services.UPLOAD_PERMISSION
PAGE_SIZE = 50


def _batch(request: HttpRequest, pk: int) -> ImportBatch:
    return get_visible_or_404(
        ImportBatch.objects.select_related("township", "uploaded_by"), request.user, pk=pk
    )


def _after(raw: str | None) -> tuple[int, int] | None:
    try:
        row, error_id = (int(part) for part in (raw or "").split(":"))
    except ValueError:
        return None
    return row, error_id


def _error_page(request: HttpRequest, batch: ImportBatch, after: tuple[int, int] | None) -> dict:
    rows = import_error_rows(batch=batch, user=request.user, after=after, limit=PAGE_SIZE)
    more = rows[PAGE_SIZE - 1] if len(rows) > PAGE_SIZE else None
    return {"error_rows": rows[:PAGE_SIZE], "next_after": f"{more.row}:{more.id}" if more else None}


@township_scoped
@login_required
@permission_required(VIEW, raise_exception=True)
@require_safe
def batch_list(request: HttpRequest) -> HttpResponse:
    """The user's batches, newest first; keyset pages on id."""
    batches = import_batches_for(user=request.user)
    after = request.GET.get("after")
    if after and after.isdigit():
        batches = batches.filter(id__lt=int(after))
    page = list(batches[: PAGE_SIZE + 1])
    context = {
        "batches": [(batch, get_kind(batch.kind)) for batch in page[:PAGE_SIZE]],
        "next_after": page[PAGE_SIZE - 1].pk if len(page) > PAGE_SIZE else None,
        "may_upload": request.user.has_perm(ADD),
    }
    return render(request, "imports/batch_list.html", context)


@township_scoped
@login_required
@permission_required(ADD, raise_exception=True)
@require_http_methods(["GET", "HEAD", "POST"])
def batch_upload(request: HttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            batch = services.import_upload(
                kind=form.cleaned_data["kind"],
                uploaded_file=form.cleaned_data["file"],
                township_id=form.township_id,
                by=request.user,
            )
        except DomainError as error:
            # A refusal about the file (too large, already imported) belongs next to the form.
            form.add_error("file", str(error.message))
        else:
            return redirect("imports:batch_detail", pk=batch.pk)
    return render(
        request, "imports/batch_upload.html", {"form": form, "kinds": list(form.fields["kind"].choices)}
    )


def _detail_context(request: HttpRequest, batch: ImportBatch) -> dict:
    may_change = request.user.has_perm(ADD)
    errors_known = batch.status not in (ImportStatus.UPLOADED, ImportStatus.VALIDATING)
    context = {
        "batch": batch,
        "kind": get_kind(batch.kind),
        "may_confirm": may_change and batch.status == ImportStatus.VALIDATED,
        "may_cancel": may_change
        and batch.status in (ImportStatus.UPLOADED, ImportStatus.VALIDATED, ImportStatus.REJECTED),
        "failure": failure_message(batch.failure_code) if batch.failure_code else "",
        "errors_known": errors_known,
        "may_download_rows": sees_full_values(batch, request.user),
    }
    if errors_known:
        context.update(_error_page(request, batch, None))
    return context


@township_scoped
@login_required
@permission_required(VIEW, raise_exception=True)
@require_safe
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    return render(request, "imports/batch_detail.html", _detail_context(request, batch))


@township_scoped
@login_required
@permission_required(VIEW, raise_exception=True)
@require_safe
def batch_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The polled progress bar. Once the worker is done, htmx reloads the page to show the result."""
    batch = _batch(request, pk)
    if wants_partial(request) and not batch.is_running:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "imports/_progress.html", {"batch": batch})


@township_scoped
@login_required
@permission_required(VIEW, raise_exception=True)
@require_safe
def batch_errors(request: HttpRequest, pk: int) -> HttpResponse:
    """The next page of bad rows, in place of the "more" row."""
    batch = _batch(request, pk)
    context = {"batch": batch, **_error_page(request, batch, _after(request.GET.get("after")))}
    return render(request, "imports/_error_rows.html", context)


@township_scoped
@login_required
@permission_required(VIEW, raise_exception=True)
@require_safe
def batch_errors_xlsx(request: HttpRequest, pk: int) -> FileResponse:
    batch = _batch(request, pk)
    refuse_full_values(batch, request.user)
    path = services.import_error_workbook(batch)
    return FileResponse(open(path, "rb"), as_attachment=True, filename=f"import-{batch.pk}-errors.xlsx")


@township_scoped
@login_required
@permission_required(ADD, raise_exception=True)
@require_POST
def batch_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    services.import_confirm(batch_id=pk, by=request.user)
    return redirect("imports:batch_detail", pk=pk)


@township_scoped
@login_required
@permission_required(ADD, raise_exception=True)
@require_POST
def batch_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    services.import_cancel(batch_id=pk, by=request.user)
    return redirect("imports:batch_detail", pk=pk)


@login_required
@require_safe
def kind_template(request: HttpRequest, kind: str) -> FileResponse:
    """The empty template of a kind (reference: no township data)."""
    path = services.import_template_workbook(kind)
    return FileResponse(open(path, "rb"), as_attachment=True, filename=f"{kind}-template.xlsx")
