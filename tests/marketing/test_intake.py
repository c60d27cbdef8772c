"""The capture intake: submissions are stored first and turned into leads in batches,
each with the outcome it would have had alone; a submission that cannot be processed is
kept with its error; the server's intake thread does it all in the background."""

import pytest
from django.core.management import call_command

from salesplan.customers.models import Lead
from salesplan.marketing import capture, intake
from salesplan.marketing.models import (
    CampaignMember,
    CaptureRateCount,
    CaptureSubmission,
    LeadEvent,
    LeadHandoff,
)
from tests.factories import make_account, make_contact, make_lead
from tests.marketing.conftest import eventually, intake_settled

pytestmark = pytest.mark.django_db


def person(email, state="CA", **extra):
    return {"first_name": "Pat", "last_name": email.split("@")[0].title(), "email": email,
            "state": state, "country": "US", **extra}


def stored(form, *people, address="203.0.113.7"):
    arrivals = [capture.check(form, body, address=address, strict=True)[0] for body in people]
    capture.store(arrivals)
    return arrivals


def test_a_batch_routes_in_arrival_order_like_one_at_a_time(org, capture_form):
    stored(capture_form, *(person(f"p{i}@example.com") for i in range(4)))
    assert capture.process_inbox() == 4
    owners = [Lead.objects.get(email=f"p{i}@example.com").owner for i in range(4)]
    first, second = sorted([org.west_rep, org.west_rep2], key=lambda u: u.pk)
    assert owners == [first, second, first, second]  # round-robin, in order of arrival
    assert CaptureSubmission.objects.filter(status="done", outcome="created").count() == 4
    assert CampaignMember.objects.filter(campaign=capture_form.campaign).count() == 4


def test_an_address_twice_in_one_batch_makes_one_lead_updated_by_the_second(capture_form):
    stored(capture_form, person("same@example.com", company="First"),
           person("same@example.com", company="Second"))
    capture.process_inbox()
    lead = Lead.objects.get(email="same@example.com")
    assert lead.company == "Second" and lead.version == 2
    outcomes = list(CaptureSubmission.objects.order_by("id").values_list("outcome", "lead"))
    assert outcomes == [("created", lead.pk), ("updated", lead.pk)]
    kinds = list(LeadEvent.objects.filter(lead=lead).values_list("kind", flat=True))
    assert kinds == ["captured", "routed", "captured"]


def test_known_lead_contact_and_new_address_in_one_batch(org, capture_form):
    known = make_lead(org.west_rep, email="known@example.com", company="Old", state="CA")
    LeadHandoff.objects.create(lead=known, stage="sal", stage_changed_at=known.created_at)
    contact = make_contact(org.east_rep, make_account(org.east_rep), email="c@example.com")
    stored(capture_form, person("known@example.com", company="New"), person("c@example.com"),
           person("fresh@example.com", state="NY"))
    capture.process_inbox()
    known.refresh_from_db()
    assert known.company == "New" and known.owner == org.west_rep  # still with its rep
    assert LeadHandoff.objects.get(lead=known).stage == "sal"
    assert not Lead.objects.filter(email="c@example.com").exists()
    assert CampaignMember.objects.get(contact=contact).response == "registered"
    assert Lead.objects.get(email="fresh@example.com").owner == org.east_rep


def test_the_allowance_is_shared_by_a_batch_and_refused_ones_are_not_counted(capture_form,
                                                                             one_minute):
    arrivals = stored(capture_form, *(person(f"f{i}@example.com") for i in range(7)))
    assert [a.retry_after is None for a in arrivals] == [True] * 5 + [False] * 2
    assert all(1 <= a.retry_after <= 61 for a in arrivals[5:])
    assert CaptureSubmission.objects.count() == 5
    assert CaptureRateCount.objects.get().count == 5
    other = stored(capture_form, person("o@example.com"), address="198.51.100.9")
    assert other[0].submission_id is not None


def test_a_submission_that_cannot_be_processed_is_kept_with_its_error(capture_form):
    stored(capture_form, person("good@example.com"))
    CaptureSubmission.objects.create(form=capture_form, received_at=capture_form.created_at,
                                     data={**person("bad@example.com"), "shoe_size": "44"})
    stored(capture_form, person("good2@example.com"))
    assert capture.process_inbox() == 3
    assert set(Lead.objects.values_list("email", flat=True)) == {"good@example.com",
                                                                  "good2@example.com"}
    failed = CaptureSubmission.objects.get(status="failed")
    assert "shoe_size" in failed.error and failed.data["email"] == "bad@example.com"
    failed.data = person("bad@example.com")  # the cause fixed, it can be retried
    failed.save()
    call_command("marketing", "process-inbox", "--retry-failed")
    assert Lead.objects.filter(email="bad@example.com").exists()
    assert not CaptureSubmission.objects.filter(status="failed").exists()


def test_captured_leads_are_scored(capture_form):
    from salesplan.scoring.models import LeadScore

    stored(capture_form, person("scored@example.com"))
    capture.process_inbox()
    lead = Lead.objects.get(email="scored@example.com")
    assert LeadScore.objects.filter(lead=lead).exists()
    assert CaptureSubmission.objects.get().scored


@pytest.mark.django_db(transaction=True)
def test_the_server_intake_thread_stores_processes_and_answers(org, capture_form):
    receipt = intake.submit(capture_form, person("bg@example.com"), address="192.0.2.1")
    assert CaptureSubmission.objects.filter(pk=receipt.submission_id).exists()  # stored
    lead = eventually(lambda: Lead.objects.filter(email="bg@example.com").first())
    assert lead.owner in (org.west_rep, org.west_rep2)
    with pytest.raises(capture.RateLimited):
        for i in range(6):  # the form allows 5 a minute per address
            intake.submit(capture_form, person(f"x{i}@example.com"), address="192.0.2.2")
    assert intake_settled()
    assert Lead.objects.filter(email__startswith="x").count() == 5


def test_the_form_page_shows_what_its_submissions_became(org, capture_form, client):
    stored(capture_form, person("shown@example.com"))
    CaptureSubmission.objects.create(form=capture_form, received_at=capture_form.created_at,
                                     data={**person("odd@example.com"), "shoe_size": "44"})
    capture.process_inbox()
    client.force_login(org.marketer)
    page = client.get(f"/marketing/forms/{capture_form.pk}/").content.decode()
    assert "1 processed · 0 waiting · 1 failed" in page
    assert "shown@example.com" in page and "New lead" in page and "shoe_size" in page
