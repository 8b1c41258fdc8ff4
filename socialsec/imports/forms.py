from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from socialsec.core.choices import DivisionLevel
from socialsec.core.models import AdministrativeDivision
from socialsec.core.scoping import assigned_township_ids, can_see_whole_county
from socialsec.imports.kinds import registered_kinds

COUNTY_WIDE = "county"


class ImportUploadForm(forms.Form):
    """Kind, township (only the user's; the whole county for county-wide staff) and the file."""

    kind = forms.ChoiceField(label=_("Kind of list"))
    township = forms.ChoiceField(label=_("Township"))
    file = forms.FileField(label=_("File (xlsx or csv)"))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(kind.name, kind.label) for kind in registered_kinds().values()]
        townships = AdministrativeDivision.objects.filter(level=DivisionLevel.TOWNSHIP).order_by("code")
        if not can_see_whole_county(user):
            townships = townships.filter(pk__in=assigned_township_ids(user))
        choices: list[tuple[str, Any]] = [(str(t.pk), t.name) for t in townships]
        if can_see_whole_county(user):
            choices.insert(0, (COUNTY_WIDE, _("The whole county")))
        self.fields["township"].choices = choices
        self.fields["file"].widget.attrs["accept"] = ".xlsx,.csv"

    @property
    def township_id(self) -> int | None:
        value = self.cleaned_data["township"]
        return None if value == COUNTY_WIDE else int(value)
