"""Forms for the company settings page and the personal profile page."""

from django import forms

from salesplan.core.money import CURRENCY_CHOICES

from .models import WEEKDAY_NAMES, Company, Role

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


def _active_people():
    from .models import User

    return User.objects.filter(is_active=True).order_by("last_name", "first_name", "username")


def _teams():
    from .models import Team

    return Team.objects.order_by("name")


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email", max_length=254)
    first_name = forms.CharField(label="First name", max_length=150, required=False)
    last_name = forms.CharField(label="Last name", max_length=150, required=False)
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.REP)
    team = forms.ModelChoiceField(label="Team", queryset=_teams(), required=False)
    manager = PersonChoiceField(label="Manager", queryset=_active_people(), required=False,
                                help_text="Empty: the team's manager.")


class PersonForm(forms.Form):
    first_name = forms.CharField(label="First name", max_length=150, required=False)
    last_name = forms.CharField(label="Last name", max_length=150, required=False)
    email = forms.EmailField(label="Email", max_length=254)
    title = forms.CharField(label="Title", max_length=120, required=False)
    phone = forms.CharField(label="Phone", max_length=40, required=False)
    role = forms.ChoiceField(label="Role", choices=Role.choices)
    team = forms.ModelChoiceField(label="Team", queryset=_teams(), required=False)
    manager = PersonChoiceField(label="Manager", queryset=_active_people(), required=False)

    @classmethod
    def for_person(cls, person, *args, **kwargs) -> "PersonForm":
        kwargs["initial"] = {f: getattr(person, f) for f in
                             ("first_name", "last_name", "email", "title", "phone", "role",
                              "team", "manager")}
        return cls(*args, **kwargs)


class SellingProfileForm(forms.Form):
    time_zone = forms.CharField(label="Time zone", max_length=64, required=False,
                                help_text="Empty: the company's. An IANA name such as "
                                          "Europe/Berlin.")
    work_starts = forms.TimeField(label="Working hours start",
                                  widget=forms.TimeInput(attrs={"type": "time"}))
    work_ends = forms.TimeField(label="Working hours end",
                                widget=forms.TimeInput(attrs={"type": "time"}))
    working_days = forms.TypedMultipleChoiceField(
        label="Working days", choices=list(enumerate(WEEKDAY_NAMES)), coerce=int,
        widget=forms.CheckboxSelectMultiple)
    home_address = forms.CharField(label="Home base address", max_length=300, required=False)
    home_latitude = forms.DecimalField(label="Latitude", required=False, min_value=-90,
                                       max_value=90, decimal_places=6)
    home_longitude = forms.DecimalField(label="Longitude", required=False, min_value=-180,
                                        max_value=180, decimal_places=6)

    @classmethod
    def for_person(cls, person, *args, **kwargs) -> "SellingProfileForm":
        kwargs["initial"] = {"time_zone": person.time_zone, "work_starts": person.work_starts,
                             "work_ends": person.work_ends,
                             "working_days": person.working_weekdays,
                             "home_address": person.home_address,
                             "home_latitude": person.home_latitude,
                             "home_longitude": person.home_longitude}
        return cls(*args, **kwargs)


class TeamForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120)
    parent = forms.ModelChoiceField(label="Part of", queryset=_teams(), required=False,
                                    help_text="Empty: a top team.")
    manager = PersonChoiceField(label="Manager", queryset=_active_people(), required=False)

    @classmethod
    def for_team(cls, team, *args, **kwargs) -> "TeamForm":
        kwargs["initial"] = {"name": team.name, "parent": team.parent, "manager": team.manager}
        return cls(*args, **kwargs)


class SetPasswordForm(forms.Form):
    password = forms.CharField(label="New password", strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}))
    password_again = forms.CharField(label="New password again", strip=False,
                                     widget=forms.PasswordInput(
                                         attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords differ.")
        return data


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(label="Your email address", max_length=254)
