from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "salesplan.customers"
    label = "customers"

    def ready(self) -> None:
        from salesplan.core.handover import field_provider
        from salesplan.core.hooks import user_handover

        from .models import Account, Contact, Lead, LeadStatus

        # A departing user's accounts, contacts and open leads go to their successor.
        done = [LeadStatus.CONVERTED, LeadStatus.UNQUALIFIED]
        user_handover.register(field_provider("customers", [
            ("accounts", "Accounts owned", lambda u: Account.objects.filter(owner=u), "owner"),
            ("contacts", "Contacts owned", lambda u: Contact.objects.filter(owner=u), "owner"),
            ("leads", "Open leads", lambda u: Lead.objects.filter(owner=u).exclude(
                status__in=done), "owner"),
        ]))
