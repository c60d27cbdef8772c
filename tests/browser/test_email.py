"""In the browser: a rep emails a deal's contact from the deal page with a template,
previews it and sends it; the message reaches the SMTP server on loopback; the
customer's reply lands in the rep's Dovecot mailbox, the rep fetches it, and both the
sent email and the reply are on the deal's timeline."""

from decimal import Decimal
from email.message import EmailMessage as Mime
from email.utils import make_msgid

import pytest
from playwright.sync_api import expect

from salesplan.mail import services
from salesplan.mail.models import EmailMessage
from tests.browser.conftest import log_in
from tests.factories import make_account, make_contact, make_opportunity
from tests.mail_servers import body_of

WAIT = 30_000  # ms: a busy machine loads the htmx panels slowly

pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, databases="__all__")]


def test_email_from_a_deal_and_its_reply_are_on_the_timeline(page, org, smtp_server,
                                                             imap_server):
    account = make_account(org.west_rep, name="Acme GmbH")
    contact = make_contact(org.west_rep, account, first_name="Dana", last_name="Ruiz",
                           email="dana@acme.example")
    deal = make_opportunity(org.west_rep, account, name="Acme rollout", contact=contact,
                            amount=Decimal("12500.00"), currency="EUR")
    services.create_template(by=org.marketer, data={
        "name": "Follow-up", "subject": "{{ deal.name }}: next steps",
        "body": "Hi {{ contact.first_name }}, the offer comes to {{ deal.amount }}."})
    services.create_mailbox(by=org.west_rep, data=imap_server.mailbox_data("My inbox"))

    page.set_default_timeout(WAIT)
    log_in(page, org.west_rep, org.password)
    page.goto(f"/opportunities/{deal.pk}/")
    panel = page.locator(f"#email-opportunity-{deal.pk}")
    # The template is chosen without the change event that submits it, then applied with
    # the button: on a busy machine the event could land before the panel's script has
    # bound to it, or, bound, send a second request whose late answer replaces the panel.
    panel.get_by_label("Template").evaluate(
        "(select, label) => { for (const o of select.options) {"
        " if (o.text === label) { select.value = o.value; } } }", "Follow-up")
    panel.get_by_role("button", name="Use template").click()
    expect(panel.get_by_label("Subject")).to_have_value("{{ deal.name }}: next steps",
                                                        timeout=WAIT)
    panel.get_by_role("button", name="Preview").click()
    preview = panel.get_by_role("article", name="Preview")
    expect(preview.locator(".email-preview-subject")).to_have_text("Acme rollout: next steps")
    expect(preview.locator(".email-preview-body")).to_have_text(
        "Hi Dana, the offer comes to EUR 12,500.00.")
    expect(preview.get_by_text("dana@acme.example")).to_be_visible()
    panel.get_by_role("button", name="Send").click()
    expect(panel.get_by_text("Sent to dana@acme.example.")).to_be_visible()

    [received] = smtp_server.wait_for(1)
    assert received["Subject"] == "Acme rollout: next steps"
    assert body_of(received) == (
        "Hi Dana, the offer comes to EUR 12,500.00.")
    sent_id = EmailMessage.objects.get(direction="out").message_id
    assert received["Message-ID"] == sent_id

    reply = Mime()
    reply["From"], reply["To"] = "Dana Ruiz <dana@acme.example>", "westrep@example.com"
    reply["Subject"], reply["Message-ID"] = "Re: Acme rollout: next steps", make_msgid()
    reply["In-Reply-To"], reply["References"] = sent_id, sent_id
    reply.set_content("Agreed, please send the contract.")
    imap_server.append(reply.as_bytes())

    page.goto("/mail/mailboxes/")
    page.get_by_role("button", name="Fetch now").click()
    expect(page.get_by_text("1 read: 1 logged")).to_be_visible()

    page.goto(f"/opportunities/{deal.pk}/")
    timeline = page.locator("#activity-panel .timeline")
    expect(timeline.get_by_role("link", name="Re: Acme rollout: next steps")).to_be_visible()
    expect(timeline.get_by_role("link", name="Acme rollout: next steps", exact=True)
           ).to_be_visible()
    expect(timeline.get_by_text("Agreed, please send the contract.")).to_be_visible()
