"""Forms for accounts, contacts, leads and lead conversion; saving goes through services."""

from typing import cast

from django import forms

from salesplan.core.errors import DuplicatesFound, ValidationError
from salesplan.ui.forms import LookupField, ServiceForm

from . import services
from .models import Account, Contact, Lead, LeadStatus


class DuplicateCheckForm(ServiceForm):
    """A create form that, when the record looks like existing ones, shows them (those
    the user may see, with links) and offers to create it anyway with a reason."""

    allow_duplicate = forms.BooleanField(
        required=False, label="Create anyway: this is not a duplicate")
    duplicate_reason = forms.CharField(
        required=False, max_length=500, label="Why is it not a duplicate?",
        widget=forms.TextInput(attrs={"placeholder": "e.g. a separate subsidiary"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.duplicates: DuplicatesFound | None = None
        # Offered only on a new record, and only once a duplicate was found.
        self.offer_create_anyway = self.instance.pk is None and bool(
            self.data.get("allow_duplicate") or self.data.get("duplicate_reason"))
        if self.instance.pk is not None:
            self.fields.pop("allow_duplicate")
            self.fields.pop("duplicate_reason")

    def service_data(self) -> dict:
        data = super().service_data()
        if not data.get("allow_duplicate"):
            data.pop("allow_duplicate", None)
            data.pop("duplicate_reason", None)
        return data

    def service_refused(self, exc: ValidationError) -> None:
        if isinstance(exc, DuplicatesFound):
            self.duplicates = exc
            self.offer_create_anyway = True
            self.add_error(None, "This looks like a record that already exists.")
            return
        super().service_refused(exc)

    def visible_fields(self):
        # The create-anyway choice is shown beside the duplicates, not among the fields.
        return [f for f in super().visible_fields()
                if f.name not in ("allow_duplicate", "duplicate_reason")]


class AccountForm(DuplicateCheckForm):
    parent = LookupField("accounts", model=Account, required=False, label="Parent account")
    create_service = staticmethod(services.create_account)
    update_service = staticmethod(services.update_account)

    class Meta:
        model = Account
        fields = ["name", "domain", "website", "industry", "lifecycle", "tier", "owner",
                  "parent", "employees", "annual_revenue", "potential", "currency", "street",
                  "city", "postal_code", "state", "county", "country"]


class ContactForm(DuplicateCheckForm):
    account = LookupField("accounts", model=Account, required=False)
    create_service = staticmethod(services.create_contact)
    update_service = staticmethod(services.update_contact)

    class Meta:
        model = Contact
        fields = ["first_name", "last_name", "title", "account", "email", "email_secondary",
                  "phone", "mobile", "buying_role", "do_not_contact", "owner"]


class LeadForm(DuplicateCheckForm):
    create_service = staticmethod(services.create_lead)
    update_service = staticmethod(services.update_lead)

    class Meta:
        model = Lead
        fields = ["first_name", "last_name", "title", "company", "email", "phone", "website",
                  "industry", "employees", "city", "state", "postal_code", "country", "source",
                  "campaign", "status", "owner"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Conversion is its own action, never a status picked in a form.
        status = cast(forms.ChoiceField, self.fields["status"])
        status.choices = [(value, label) for value, label in LeadStatus.choices
                          if value != LeadStatus.CONVERTED]


class ConvertLeadForm(forms.Form):
    """Choices for converting a lead: reuse or create the account and contact, and the deal."""

    account_choice = forms.ChoiceField(label="Account", widget=forms.RadioSelect)
    existing_account = LookupField("accounts", model=Account, required=False,
                                   label="Or pick another existing account")
    contact_choice = forms.ChoiceField(label="Contact", widget=forms.RadioSelect)
    create_opportunity = forms.BooleanField(label="Create an opportunity", required=False,
                                            initial=True)
    opportunity_name = forms.CharField(label="Opportunity name", max_length=200, required=False)
    amount = forms.DecimalField(label="Amount", min_value=0, max_digits=18, decimal_places=2,
                                required=False)
    close_date = forms.DateField(label="Expected close date", required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, lead: Lead, duplicates, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.lead, self.duplicates = lead, duplicates
        existing_account = self.fields["existing_account"]
        assert isinstance(existing_account, LookupField)  # noqa: S101 - declared on the class
        existing_account.user = user
        account_choice, contact_choice = self._choice("account_choice"), self._choice(
            "contact_choice")
        new_account = f"Create a new account “{lead.company or lead.full_name}”"
        account_choice.choices = [("new", new_account)] + [
            (str(a.pk), f"Use existing account: {a.name}") for a in duplicates.accounts
        ] + [("pick", "Use the account picked below")]
        self.fields["account_choice"].initial = (
            str(duplicates.accounts[0].pk) if duplicates.accounts else "new")
        new_contact = f"Create a new contact “{lead.full_name}”"
        contact_choice.choices = [("new", new_contact)] + [
            (str(c.pk), f"Use existing contact: {c.full_name} ({c.email})")
            for c in duplicates.contacts]
        self.fields["contact_choice"].initial = (
            str(duplicates.contacts[0].pk) if duplicates.contacts else "new")

    def _choice(self, name: str) -> forms.ChoiceField:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared on the class
        return field

    def clean(self):
        data = super().clean() or self.cleaned_data
        if data.get("account_choice") == "pick" and not data.get("existing_account"):
            self.add_error("existing_account", "Pick the account to use.")
        if data.get("create_opportunity") and not data.get("opportunity_name"):
            self.add_error("opportunity_name", "Name the opportunity, or untick “Create an "
                                               "opportunity”.")
        return data

    def chosen_account_id(self) -> int | None:
        choice = self.cleaned_data["account_choice"]
        if choice == "new":
            return None
        if choice == "pick":
            return self.cleaned_data["existing_account"]
        return int(choice)

    def chosen_contact_id(self) -> int | None:
        choice = self.cleaned_data["contact_choice"]
        return None if choice == "new" else int(choice)

    def opportunity_data(self) -> dict:
        data = {"name": self.cleaned_data["opportunity_name"]}
        if self.cleaned_data.get("amount") is not None:
            data["amount"] = self.cleaned_data["amount"]
        if self.cleaned_data.get("close_date"):
            data["close_date"] = self.cleaned_data["close_date"]
        return data
