"""Forms for the selling log: the full activity form and the quick "log a call" form."""

from django import forms
from django.utils import timezone

from salesplan.core.clock import company_now
from salesplan.customers.models import Account, Contact, Lead
from salesplan.pipeline.models import Opportunity
from salesplan.ui.forms import LookupField, ServiceForm

from . import services
from .models import Activity

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ActivityForm(ServiceForm):
    account = LookupField("accounts", model=Account, required=False)
    contact = LookupField("contacts", model=Contact, required=False)
    opportunity = LookupField("opportunities", model=Opportunity, required=False)
    lead = LookupField("leads", model=Lead, required=False)
    create_service = staticmethod(services.log_activity)
    update_service = staticmethod(services.update_activity)

    class Meta:
        model = Activity
        fields = ["kind", "subject", "due_at", "duration_minutes", "done", "outcome",
                  "description", "owner", "account", "contact", "opportunity", "lead"]
        widgets = {"due_at": DATETIME_WIDGET}
        labels = {"due_at": "When", "duration_minutes": "Duration (minutes)",
                  "kind": "Type"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.fields["due_at"].initial = company_now().replace(second=0,
                                                                        microsecond=0)


class QuickLogForm(forms.ModelForm):
    """Log a call, meeting, email, task or note on the record whose page the user is on."""

    class Meta:
        model = Activity
        fields = ["kind", "subject", "due_at", "duration_minutes", "done", "outcome",
                  "description"]
        widgets = {"due_at": DATETIME_WIDGET, "description": forms.Textarea(attrs={"rows": 2})}
        labels = {"due_at": "When", "duration_minutes": "Minutes", "kind": "Type",
                  "done": "Already done", "description": "Notes"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["due_at"].required = False
        self.fields["due_at"].help_text = "Leave empty for now."
        self.fields["done"].initial = True
        self.fields["duration_minutes"].required = False
        self.fields["kind"].initial = "call"

    def _post_clean(self):
        """The service validates the record."""

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        if not data.get("due_at"):
            data["due_at"] = timezone.now()
        if data.get("duration_minutes") is None:
            data["duration_minutes"] = 0
        return data
