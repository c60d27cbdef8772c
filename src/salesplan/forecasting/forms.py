"""Forms of the forecast pages; the services check the business rules."""

from decimal import Decimal

from django import forms


def amount(help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(min_value=Decimal(0), max_digits=18, decimal_places=2,
                              help_text=help_text)


class SubmissionForm(forms.Form):
    period = forms.CharField(widget=forms.HiddenInput)
    commit = amount("Deals you are sure to close this quarter.")
    best_case = amount("Commit plus the deals that may close.")
    pipeline = amount("Everything that could close this quarter.")
    note = forms.CharField(required=False, max_length=1000)


class AdjustmentForm(forms.Form):
    period = forms.CharField(widget=forms.HiddenInput)
    commit = amount()
    best_case = amount()
    pipeline = amount()
    reason = forms.CharField(max_length=1000, help_text="Why the team's figures change.")


def problems(form: forms.Form) -> str:
    parts = []
    for name, errors in form.errors.items():
        text = " ".join(str(e) for e in errors)
        parts.append(f"{name.replace('_', ' ')}: {text}" if name in form.fields else text)
    return "; ".join(parts)
