"""Forms of the registry's clerk pages: they parse input; the services decide what is allowed.

Rules (a valid credit code, a policy that covers the organization, a reason for a refusal)
live in enrollment.services only; a view turns the service's InvalidInput into a field error.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from enrollment.choices import SizeClass
from enrollment.models import FeeReliefPolicy
from socialsec.core.models import AdministrativeDivision

MONTH_FORMATS = ["%Y-%m", "%Y-%m-%d"]


class BootstrapForm(forms.Form):
    """Widgets carry Bootstrap's classes, so templates can render `{{ field }}` as it is."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        if field in self.fields:
            widget = self.fields[field].widget
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
            widget.attrs["aria-describedby"] = f"{self.add_prefix(field)}-errors"


class OrganizationRegisterForm(BootstrapForm):
    # Not required here: the service says what an empty or malformed code means, in one place.
    credit_code = forms.CharField(label=_("Unified social credit code"), max_length=40, required=False)
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    size_class = forms.ChoiceField(label=_("Size class"), choices=SizeClass.choices)
    size_class_year = forms.IntegerField(label=_("Size classification year"))
    size_class_basis = forms.CharField(label=_("Size classification basis"), max_length=200, required=False)
    industry = forms.CharField(label=_("Industry"), max_length=100, required=False)
    township = forms.ModelChoiceField(label=_("Township"), queryset=AdministrativeDivision.objects.none())

    def __init__(self, *args: Any, townships: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["township"].queryset = townships
        first_two = list(townships[:2])
        if len(first_two) == 1:  # a clerk of one township has nothing to choose
            self.fields["township"].initial = first_two[0]


class FeeReliefFileForm(BootstrapForm):
    policy = forms.TypedChoiceField(label=_("Fee relief policy"), coerce=int)
    period_from = forms.DateField(
        label=_("First month"),
        input_formats=MONTH_FORMATS,
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )
    period_to = forms.DateField(
        label=_("Last month"),
        input_formats=MONTH_FORMATS,
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )

    def __init__(self, *args: Any, policies: list[FeeReliefPolicy], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["policy"].choices = [("", "---------")] + [
            (
                policy.pk,
                f"{policy.name} ({policy.get_kind_display()}, "
                f"{policy.period_from:%Y-%m}–{policy.period_to:%Y-%m})",
            )
            for policy in policies
        ]


class FeeReliefDecisionForm(BootstrapForm):
    # Optional here: fee_relief_refuse refuses a blank reason with its own message.
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
