"""Pages of the monthly sweep (issue 4 "The monthly sweep", "Screens and API"; DOMAIN §5.3, §5.4).

/sweeps/ lists the runs with what each step found; a running run's row polls its own progress
(htmx), and since the state lives in the database a reload shows it too. A section chief starts a
month there (benefits.add_sweeprun); a worker runs it. Runs are county business, read through
SweepRun.objects.visible_to (benefits.view_sweeprun), with no township rule.

/sweeps/work-items/ is the queue of the user's townships (WorkItem.objects.visible_to), closed one
by one with a note through sweep_services.work_item_close, which decides role (403), township
(404), state (409) and the note (400); its refusals other than the note reach DomainErrorMiddleware.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from benefits import sweep_services
from benefits.sweeps import (
    SWEEP_STEPS,
    SweepRun,
    SweepStatus,
    WorkItem,
    WorkItemKind,
    WorkItemStatus,
)
from enrollment.forms import BootstrapForm
from socialsec.core.exceptions import InvalidInput
from socialsec.core.scoping import get_visible_or_404
from socialsec.core.views import positive_int, township_scoped, wants_partial
from socialsec.lib.months import parse_month
from socialsec.lib.resident_id import mask_resident_id

RUN_PAGE_SIZE = 20
ITEM_PAGE_SIZE = 50
VIEW_RUNS = "benefits.view_sweeprun"
START_RUNS = "benefits.add_sweeprun"
VIEW_ITEMS = "benefits.view_workitem"
CLOSE_ITEMS = "benefits.change_workitem"
# The queue opens on what is left to do; "all" shows open and closed together.
STATUS_ALL = "all"


# --- Forms ---------------------------------------------------------------------------------------------


class SweepStartForm(BootstrapForm):
    month = forms.CharField(
        label=gettext_lazy("Month to sweep"),
        max_length=7,
        widget=forms.TextInput(attrs={"placeholder": "YYYY-MM", "inputmode": "numeric"}),
    )

    def clean_month(self) -> Any:
        month = parse_month(self.cleaned_data["month"])
        if month is None:
            raise forms.ValidationError(_("Give the month as YYYY-MM, for example 2025-10."))
        return month


class WorkItemCloseForm(BootstrapForm):
    # Not required here: the service refuses an empty note, in one place.
    note = forms.CharField(label=gettext_lazy("Note"), max_length=2000, required=False)


# --- Runs ----------------------------------------------------------------------------------------------


def _run_row(run: SweepRun) -> dict[str, Any]:
    """A run with its steps in the order it takes them: label, count, and where the run is."""
    steps = []
    for step in SWEEP_STEPS:
        if step in run.steps_done:
            state = "done"
        elif run.status == SweepStatus.RUNNING and run.step == step:
            state = "running"
        else:
            state = "pending"
        steps.append({"step": step, "label": step.label, "count": run.counts.get(step, 0), "state": state})
    return {"run": run, "steps": steps, "running": run.status == SweepStatus.RUNNING}


def _runs_context(request: HttpRequest, form: SweepStartForm | None = None) -> dict[str, Any]:
    after = positive_int(request.GET.get("after"))
    runs = SweepRun.objects.visible_to(request.user).select_related("started_by").order_by("-id")
    if after:
        runs = runs.filter(id__lt=after)
    page = list(runs[: RUN_PAGE_SIZE + 1])
    may_start = request.user.has_perm(START_RUNS)
    if form is None and may_start:
        form = SweepStartForm(initial={"month": f"{timezone.localdate():%Y-%m}"})
    return {
        "rows": [_run_row(run) for run in page[:RUN_PAGE_SIZE]],
        "steps": [step.label for step in SWEEP_STEPS],
        "after": after,
        "next_after": page[RUN_PAGE_SIZE - 1].pk if len(page) > RUN_PAGE_SIZE else None,
        "may_start": may_start,
        "form": form,
        "started": positive_int(request.GET.get("started")),
    }


@login_required
@permission_required(VIEW_RUNS, raise_exception=True)
@require_safe
def run_list(request: HttpRequest) -> HttpResponse:
    """The runs, newest first (keyset pages on id), the start form for a section chief."""
    return render(request, "benefits/sweep_run_list.html", _runs_context(request))


@login_required
@permission_required(START_RUNS, raise_exception=True)
@require_POST
def run_start(request: HttpRequest) -> HttpResponse:
    """Form → sweep_start (queued for a worker on commit) → the list, the run's row marked.

    A month already running is that run (the service joins it); a bad month is 400 at the field.
    """
    form = SweepStartForm(request.POST)
    if not form.is_valid():
        return render(request, "benefits/sweep_run_list.html", _runs_context(request, form), status=400)
    month = form.cleaned_data["month"]
    run, running_before = sweep_services.sweep_start_or_join(month=month, by=request.user)
    if running_before:
        messages.info(request, _("The sweep of %(month)s is running already.") % {"month": f"{month:%Y-%m}"})
    else:
        messages.success(
            request,
            _("The sweep of %(month)s is queued; its progress shows below.") % {"month": f"{month:%Y-%m}"},
        )
    return redirect(f"{reverse('sweeps:run_list')}?{urlencode({'started': run.pk})}#run-{run.pk}")


@login_required
@permission_required(VIEW_RUNS, raise_exception=True)
@require_safe
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """One run's row, polled every second while it runs; the row of an ended run stops polling."""
    run = get_visible_or_404(SweepRun.objects.select_related("started_by"), request.user, pk=pk)
    return render(request, "benefits/sweep_run_row.html", {"row": _run_row(run)})


# --- Work items ----------------------------------------------------------------------------------------


def _item_row(item: WorkItem, *, form: WorkItemCloseForm | None = None) -> dict[str, Any]:
    return {
        "item": item,
        "id_number_masked": mask_resident_id(item.person.id_number),
        "form": form or WorkItemCloseForm(prefix=f"close-{item.pk}"),
    }


def _item_filters(request: HttpRequest) -> dict[str, str]:
    kind = request.GET.get("kind", "")
    status = request.GET.get("status", WorkItemStatus.OPEN)
    return {
        "kind": kind if kind in WorkItemKind.values else "",
        "status": status if status in (*WorkItemStatus.values, STATUS_ALL) else WorkItemStatus.OPEN,
    }


def _items(user: Any) -> Any:
    return WorkItem.objects.visible_to(user).select_related("person", "township", "closed_by")


@township_scoped
@login_required
@permission_required(VIEW_ITEMS, raise_exception=True)
@require_safe
@vary_on_headers("HX-Request")
def work_item_list(request: HttpRequest) -> HttpResponse:
    """The queue of the user's townships, newest first (filters: kind, status; open by default);
    keyset pages on id, never a COUNT(*); "show more" (htmx) gets the next rows only."""
    filters = _item_filters(request)
    items = _items(request.user).order_by("-id")
    if filters["kind"]:
        items = items.filter(kind=filters["kind"])
    if filters["status"] != STATUS_ALL:
        items = items.filter(status=filters["status"])
    after = positive_int(request.GET.get("after"))
    if after:
        items = items.filter(id__lt=after)
    page = list(items[: ITEM_PAGE_SIZE + 1])
    context = {
        "rows": [_item_row(item) for item in page[:ITEM_PAGE_SIZE]],
        "filters": filters,
        "filter_query": urlencode(filters),
        "kinds": WorkItemKind.choices,
        "statuses": [*WorkItemStatus.choices, (STATUS_ALL, _("Any"))],
        "after": after,
        "next_after": page[ITEM_PAGE_SIZE - 1].pk if len(page) > ITEM_PAGE_SIZE else None,
        "may_close": request.user.has_perm(CLOSE_ITEMS),
    }
    template = (
        "benefits/sweep_work_item_rows.html" if wants_partial(request) else "benefits/sweep_work_items.html"
    )
    return render(request, template, context)


@township_scoped
@login_required
@permission_required(CLOSE_ITEMS, raise_exception=True)
@require_http_methods(["GET", "HEAD", "POST"])
def work_item_close(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the item and its close form. POST: → work_item_close → the queue (htmx: the closed row).

    An empty note is 400 next to the field; 403, 404 and 409 come from the service.
    """
    form = WorkItemCloseForm(request.POST or None, prefix=f"close-{pk}")
    status = 200
    if request.method == "POST" and form.is_valid():  # only the length can fail here
        try:
            sweep_services.work_item_close(item_id=pk, by=request.user, note=form.cleaned_data["note"])
        except InvalidInput as error:
            form.add_error("note", str(error.message))
            status = 400
        else:
            if not wants_partial(request):
                messages.success(request, _("Work item %(id)s is closed.") % {"id": pk})
                return redirect("sweeps:work_item_list")
            form = None  # the closed row shows the note, not the form
    elif request.method == "POST":
        status = 400
    item = get_visible_or_404(_items(request.user), request.user, pk=pk)
    context = {"row": _item_row(item, form=form), "may_close": True}
    template = (
        "benefits/sweep_work_item_row.html"
        if wants_partial(request)
        else "benefits/sweep_work_item_close.html"
    )
    return render(request, template, context, status=status)
