from decimal import Decimal

import pytest

from salesplan.mail import services
from tests.api.conftest import api_as  # noqa: F401 - the API caller fixture, shared
from tests.factories import make_account, make_contact, make_opportunity
from tests.mail_servers import imap_server, smtp_server  # noqa: F401 - fixtures


@pytest.fixture
def deal(org):
    """A West rep's deal with Acme, its contact Dana and an amount in euros."""
    account = make_account(org.west_rep, name="Acme GmbH")
    contact = make_contact(org.west_rep, account, first_name="Dana", last_name="Ruiz",
                           email="dana@acme.example")
    return make_opportunity(org.west_rep, account, name="Acme rollout", contact=contact,
                            amount=Decimal("12500.00"), currency="EUR")


@pytest.fixture
def template(org):
    return services.create_template(by=org.marketer, data={
        "name": "Follow-up", "subject": "{{ deal.name }}: next steps",
        "body": "Hi {{ contact.first_name }},\n\nthe offer for {{ account.name }} comes to "
                "{{ deal.amount }}.\n\n{{ sender.name }}\n{{ sender.signature }}"})
