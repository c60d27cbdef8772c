"""Forms of the scoring pages: a rule, and the training settings."""

from django import forms

from .facts import FACT_FIELDS
from .models import Operator, RuleKind


class RuleForm(forms.Form):
    kind = forms.ChoiceField(choices=RuleKind.choices)
    field = forms.ChoiceField(label="Lead fact", choices=[
        (f.name, f"{f.label} ({f.kind})") for f in FACT_FIELDS.values()])
    operator = forms.ChoiceField(choices=Operator.choices)
    value = forms.CharField(max_length=500, required=False,
                            help_text="Comma-separated for “is one of”; LOW-HIGH for a range.")
    points = forms.IntegerField(min_value=-1000, max_value=1000)
    label = forms.CharField(max_length=120, required=False,
                            help_text="The reason shown on the lead; generated if empty.")


class TrainForm(forms.Form):
    min_per_class = forms.IntegerField(
        label="Fewest converted and disqualified leads", min_value=5, max_value=100_000,
        initial=20, help_text="Training is refused below this many of either outcome.")
    test_fraction = forms.FloatField(label="Held-out share", min_value=0.05, max_value=0.5,
                                     initial=0.25)
    split = forms.ChoiceField(label="Hold out", initial="stratified", choices=[
        ("stratified", "A random share with the same conversion rate"),
        ("time", "The newest leads (train on the older ones)")])
