"""Forms for the company settings page and the personal profile page."""

from django import forms

from salesplan.core.money import CURRENCY_CHOICES

from .models import WEEKDAY_NAMES, Company

MONTHS = [(i, name) for i, name in enumerate(
    ["January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December"], start=1)]


class CompanyForm(forms.Form):
    name = forms.CharField(label="Company name", max_length=200)
    logo = forms.ImageField(label="Logo", required=False,
                            help_text="PNG or JPEG, shown in the top bar.")
    default_currency = forms.ChoiceField(label="Default currency", choices=CURRENCY_CHOICES)
    fiscal_year_start_month = forms.TypedChoiceField(
        label="Fiscal year starts in", choices=MONTHS, coerce=int)
    time_zone = forms.CharField(label="Time zone", max_length=64,
                                help_text="An IANA name such as Europe/Berlin or America/Chicago.")
    working_days = forms.TypedMultipleChoiceField(
        label="Working days", choices=list(enumerate(WEEKDAY_NAMES)), coerce=int,
        widget=forms.CheckboxSelectMultiple)

    @classmethod
    def for_company(cls, company: Company, *args, **kwargs) -> "CompanyForm":
        initial = {"name": company.name, "default_currency": company.default_currency,
                   "fiscal_year_start_month": company.fiscal_year_start_month,
                   "time_zone": company.time_zone, "working_days": company.working_weekdays}
        kwargs["initial"] = initial
        return cls(*args, **kwargs)


class HolidayForm(forms.Form):
    date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    name = forms.CharField(label="Holiday name", max_length=120)
