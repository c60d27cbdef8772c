"""Forms of the plan pages; the services validate the business rules."""

from decimal import Decimal
from typing import cast

from django import forms

from salesplan.org.models import Team

from .models import MARKETING_MEASURES, AllocationMethod, Measure

REASON_HELP = "Needed once the plan is approved: the change becomes a revision."


class PlanForm(forms.Form):
    name = forms.CharField(max_length=200)
    fiscal_year = forms.IntegerField(min_value=2000, max_value=2100,
                                     help_text="Named after the calendar year it ends in.")
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False,
                                  empty_label="Whole company (admins)")

    def __init__(self, *args, teams=None, **kwargs):
        super().__init__(*args, **kwargs)
        team = cast(forms.ModelChoiceField, self.fields["team"])
        team.queryset = teams if teams is not None else Team.objects.all()


class TargetForm(forms.Form):
    measure = forms.ChoiceField(choices=Measure.choices)
    total = forms.DecimalField(min_value=Decimal(0), max_digits=18, decimal_places=2,
                               label="Target for the year")
    phasing = forms.ChoiceField(choices=[("even", "Even by month"),
                                         ("history", "Seasonality of the last two years"),
                                         ("profile", "Profile entered below")])
    profile = forms.CharField(required=False, help_text="12 weights separated by commas.")
    reason = forms.CharField(required=False, help_text=REASON_HELP)

    def clean_profile(self) -> list[str] | None:
        text = self.cleaned_data["profile"].strip()
        return [part.strip() for part in text.split(",")] if text else None


class AllocateForm(forms.Form):
    objective = forms.IntegerField(widget=forms.Select, label="Target to allocate")
    to = forms.ChoiceField(choices=[("reps", "Reps"), ("teams", "Teams"),
                                    ("territories", "Territories"),
                                    ("product_lines", "Product lines")])
    method = forms.ChoiceField(choices=AllocationMethod.choices)
    weights = forms.CharField(required=False, help_text=(
        "Custom: id=weight, comma separated; product lines: name=weight."))
    reason = forms.CharField(required=False, help_text=REASON_HELP)

    def __init__(self, *args, objectives=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["objective"].widget.choices = [(o.pk, str(o)) for o in objectives]

    def clean(self):
        data = super().clean() or self.cleaned_data
        text = (data.get("weights") or "").strip()
        data["weights"] = self._weights(text, data.get("to") == "product_lines") if text \
            else None
        return data

    def _weights(self, text: str, by_name: bool) -> dict | None:
        weights: dict = {}
        for part in text.split(","):
            key, _, value = part.partition("=")
            try:
                weights[key.strip() if by_name else int(key)] = Decimal(value.strip() or "1")
            except (ValueError, ArithmeticError):
                self.add_error("weights", f"Write each weight as key=number, not {part!r}.")
                return None
        return weights


class CommitmentForm(forms.Form):
    measure = forms.ChoiceField(choices=Measure.choices)

    def __init__(self, *args, month_labels=(), **kwargs):
        super().__init__(*args, **kwargs)
        for i, label in enumerate(month_labels, start=1):
            self.fields[f"m{i}"] = forms.DecimalField(
                label=label, min_value=Decimal(0), max_digits=18, decimal_places=2,
                initial=Decimal(0))

    def months(self) -> list[Decimal]:
        return [self.cleaned_data[f"m{i}"] for i in range(1, 13)]


class MarketingCommitmentForm(CommitmentForm):
    """Marketing's commitment of leads or pipeline to one team of the plan."""

    def __init__(self, *args, teams=None, **kwargs):
        super().__init__(*args, **kwargs)
        measure = cast(forms.ChoiceField, self.fields["measure"])
        measure.choices = [(m.value, m.label) for m in MARKETING_MEASURES]
        self.fields["team"] = forms.ModelChoiceField(
            queryset=teams if teams is not None else Team.objects.all())
        self.order_fields(["team", "measure"])


class RatesForm(forms.Form):
    """Rates the manager enters in place of the historical ones (blank: use history)."""

    deal_size = forms.DecimalField(required=False, min_value=Decimal("0.01"),
                                   label="Average deal size")
    win_rate = forms.DecimalField(required=False, min_value=Decimal("0.0001"),
                                  max_value=Decimal(1), help_text="Between 0 and 1.")
    meetings_per_opportunity = forms.DecimalField(required=False, min_value=Decimal(0))
    calls_per_meeting = forms.DecimalField(required=False, min_value=Decimal(0))
    calls_per_day = forms.DecimalField(required=False, min_value=Decimal(0),
                                       label="Calls a rep can make per selling day",
                                       help_text="Turns on the capacity check.")
