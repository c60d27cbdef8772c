"""Forms of the visit settings page: they collect and type-check; the services save and
refuse (a stale version, a value out of range), and their refusals show by the field."""

from django import forms

from salesplan.customers.models import Tier
from salesplan.ui.forms import ServiceForm

from . import services
from .models import FrequencyRule, VisitSettings


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
