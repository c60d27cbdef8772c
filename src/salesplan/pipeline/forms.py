"""Forms for opportunities: create, edit, move between stages, close won or lost."""

from typing import cast

from django import forms

from salesplan.customers.models import Account, Contact
from salesplan.ui.forms import LookupField, ServiceForm

from . import services
from .models import Opportunity, Pipeline, Stage, StageKind


class OpportunityForm(ServiceForm):
    account = LookupField("accounts", model=Account)
    contact = LookupField("contacts", model=Contact, required=False,
                          help_text="Someone at the account.")
    create_service = staticmethod(services.create_opportunity)
    update_service = staticmethod(services.update_opportunity)

    class Meta:
        model = Opportunity
        fields = ["name", "account", "contact", "pipeline", "amount", "currency", "close_date",
                  "probability", "forecast_category", "next_step", "owner"]
        widgets = {"close_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The contact picker offers the chosen account's people; the service still checks.
        self.fields["contact"].widget.include = f"#{self['account'].auto_id}_value"
        if self.instance.pk is None:
            pipeline = cast(forms.ModelChoiceField, self.fields["pipeline"])
            pipeline.queryset = Pipeline.objects.filter(active=True)
            pipeline.required = False
            pipeline.empty_label = "Default pipeline"
            self.fields["probability"].required = False
            self.fields["probability"].help_text = "Leave empty to use the stage's default."
        else:
            # The stage and pipeline change only through the move and close actions.
            del self.fields["pipeline"]

    def service_data(self) -> dict:
        data = super().service_data()
        if data.get("pipeline") is None:
            data.pop("pipeline", None)
        if data.get("probability") is None:
            data.pop("probability", None)
        return data


class QuickAddForm(ServiceForm):
    """A deal created straight in a board column: name, account, amount and close date;
    the rest takes the stage's and the company's defaults."""

    account = LookupField("accounts", model=Account)
    create_service = staticmethod(services.create_opportunity)
    update_service = staticmethod(services.update_opportunity)

    class Meta:
        model = Opportunity
        fields = ["name", "account", "amount", "currency", "close_date"]
        widgets = {"close_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, stage: Stage | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.stage = stage
        self.fields["amount"].required = False
        self.fields["close_date"].required = False
        self.fields["currency"].required = False

    def service_data(self) -> dict:
        data = {k: v for k, v in super().service_data().items() if v not in (None, "")}
        if self.stage is not None:
            data.update(pipeline=self.stage.pipeline, stage=self.stage)
        return data


class StageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.probability}%)"


class MoveForm(forms.Form):
    """Move a deal to another stage of its pipeline."""

    stage = StageChoiceField(queryset=Stage.objects.none(), label="Move to",
                                   empty_label=None)
    lost_reason = forms.CharField(max_length=255, required=False, label="Lost reason")
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, opportunity: Opportunity, **kwargs):
        super().__init__(*args, **kwargs)
        stage = self.fields["stage"]
        assert isinstance(stage, forms.ModelChoiceField)  # noqa: S101 - declared above
        stage.queryset = Stage.objects.filter(
            pipeline_id=opportunity.pipeline_id).order_by("position")
        self.fields["stage"].initial = opportunity.stage_id
        self.fields["version"].initial = opportunity.version


class CloseLostForm(forms.Form):
    lost_reason = forms.CharField(max_length=255, label="Why was it lost?")
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


def closing_stage(opportunity: Opportunity, kind: str) -> Stage | None:
    return (Stage.objects.filter(pipeline_id=opportunity.pipeline_id, kind=kind)
            .order_by("position").first())


__all__ = ["OpportunityForm", "MoveForm", "CloseLostForm", "closing_stage", "StageKind"]
