"""Forms of the marketing pages; the services check the rules again."""

from django import forms

from salesplan.customers.models import LeadSource
from salesplan.org.models import Role, User

from .models import Campaign, CampaignStatus, CampaignType, Channel, Response, RoutingMethod
from .services import FORM_FIELDS


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "type", "channel", "status", "owner", "start_date", "end_date",
                  "budget", "actual_cost", "currency", "description"]
        widgets = {"start_date": forms.DateInput(attrs={"type": "date"}),
                   "end_date": forms.DateInput(attrs={"type": "date"}),
                   "description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            is_active=True, role__in=(Role.MARKETING, Role.ADMIN))
        self.fields["type"].choices = CampaignType.choices  # type: ignore[attr-defined]
        self.fields["channel"].choices = Channel.choices  # type: ignore[attr-defined]
        self.fields["status"].choices = CampaignStatus.choices  # type: ignore[attr-defined]


FIELD_CHOICES = [(f, f.replace("_", " ").capitalize()) for f in FORM_FIELDS]


class CaptureFormForm(forms.Form):
    name = forms.CharField(max_length=120)
    campaign = forms.ModelChoiceField(Campaign.objects.all(), required=False)
    shown_fields = forms.MultipleChoiceField(label="Fields", choices=FIELD_CHOICES, required=False,
                                       widget=forms.CheckboxSelectMultiple,
                                       help_text="Shown besides first name, last name and email.")
    required_fields = forms.MultipleChoiceField(choices=FIELD_CHOICES, required=False,
                                                widget=forms.CheckboxSelectMultiple)
    source = forms.ChoiceField(choices=LeadSource.choices, initial=LeadSource.WEB)
    response = forms.ChoiceField(choices=Response.choices, initial=Response.RESPONDED)
    queue_owner = forms.ModelChoiceField(
        User.objects.filter(is_active=True).exclude(role=Role.EXECUTIVE),
        help_text="Holds the leads nobody can take while they wait in the queue.")
    rate_limit = forms.IntegerField(min_value=1, max_value=1_000_000, initial=20,
                                    help_text="Submissions per minute from one address.")
    thank_you = forms.CharField(max_length=300, initial="Thank you, we will be in touch.")


class PolicyForm(forms.Form):
    sla_hours = forms.IntegerField(min_value=1, max_value=720, label="First touch within (hours)")
    routing_method = forms.ChoiceField(choices=RoutingMethod.choices)
    default_capacity = forms.IntegerField(min_value=0, max_value=100_000,
                                          label="Open leads per rep (default)")


class MembersForm(forms.Form):
    emails = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="Email addresses of leads or contacts, one per line.")
    response = forms.ChoiceField(choices=Response.choices)

