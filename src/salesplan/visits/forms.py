"""Forms of the field-visit pages. The settings forms collect and type-check; the services
save and refuse (a stale version, a value out of range), and their refusals show by the field."""

from django import forms

from salesplan.customers.models import Tier
from salesplan.org.models import User
from salesplan.territories import selectors as territory_reads
from salesplan.ui.forms import ServiceForm

from . import services
from .models import FrequencyRule, VisitSettings
from .whatif import WhatIfChange


def _change_settings(config: VisitSettings, *, by, data: dict,
                     expected_version: int | None) -> VisitSettings:
    return services.update_settings(by=by, version=expected_version, **data)


class VisitSettingsForm(ServiceForm):
    """The company's travel estimate, routing server, visit defaults and horizon."""

    create_service = staticmethod(_change_settings)  # the settings always exist
    update_service = staticmethod(_change_settings)

    class Meta:
        model = VisitSettings
        fields = services.SETTINGS_FIELDS
        labels = {"circuity": "Circuity factor", "average_speed_kmh": "Average speed (km/h)",
                  "routing_server_url": "OSRM routing server",
                  "horizon_days": "Planning horizon (days)",
                  "default_duration_minutes": "Default visit (minutes)",
                  "lunch_earliest": "Lunch from", "lunch_latest": "Lunch starts by",
                  "lunch_minutes": "Lunch (minutes)",
                  "solver_solutions": "Routes examined per day"}
        widgets = {"lunch_earliest": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                   "lunch_latest": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                   "routing_server_url": forms.URLInput(
                       attrs={"placeholder": "https://osrm.example.com"})}


class FrequencyRuleForm(ServiceForm):
    """Visits a month for a tier and industry (empty: every one)."""

    tier = forms.ChoiceField(choices=[("", "Every tier"), *Tier.choices], required=False,
                             label="Tier")
    create_service = staticmethod(services.create_rule)
    update_service = staticmethod(services.update_rule)

    class Meta:
        model = FrequencyRule
        fields = services.RULE_FIELDS
        labels = {"visits_per_month": "Visits a month",
                  "duration_minutes": "Visit (minutes)"}
        help_texts = {"duration_minutes": "Empty: the default visit."}


class WhatIfForm(forms.Form):
    """A rep and the change to try: a home base (coordinates or an account) and/or the
    territories they would work."""

    rep = forms.TypedChoiceField(coerce=int, label="Rep")
    latitude = forms.DecimalField(required=False, min_value=-90, max_value=90,
                                  decimal_places=6, label="New home latitude")
    longitude = forms.DecimalField(required=False, min_value=-180, max_value=180,
                                   decimal_places=6, label="New home longitude")
    home_account = forms.IntegerField(required=False, min_value=1,
                                      label="Or start from account (id)",
                                      help_text="The days start and end at its address.")
    territories = forms.TypedMultipleChoiceField(
        coerce=int, required=False, label="Work these territories instead",
        help_text="Leave empty to keep the rep's own accounts.")
    days = forms.IntegerField(required=False, min_value=1, max_value=91,
                              label="Days to plan", help_text="Default: the company's horizon.")

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        rep: forms.TypedChoiceField = self.fields["rep"]  # type: ignore[assignment]
        rep.choices = [(u.pk, str(u)) for u in _reps(user)]
        self.fields["rep"].initial = user.pk
        alignment = territory_reads.active_alignment()
        territories: forms.TypedMultipleChoiceField = \
            self.fields["territories"]  # type: ignore[assignment]
        territories.choices = [
            (t.pk, t.name) for t in territory_reads.territories_of(
                alignment.pk if alignment else None)
            if territory_reads.can_open_territory(user, t)]

    def change(self) -> WhatIfChange:
        data = self.cleaned_data
        return WhatIfChange(data["latitude"], data["longitude"], data["home_account"],
                            data["territories"] or None)


def _reps(user: User) -> list[User]:
    """Whose plan the user may try a change on: a rep their own, a manager their reps."""
    if user.role == "rep":
        return [user]
    reps = User.objects.filter(is_active=True, role="rep").order_by("first_name", "last_name",
                                                                    "pk")
    visible = user.visible_owner_ids
    return list(reps if visible is None else reps.filter(pk__in=visible))
