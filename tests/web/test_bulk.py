"""Bulk actions from the lists: choose rows, preview, confirm, follow the job."""

import pytest

from salesplan.core.models import BackgroundJob
from salesplan.customers.models import Account

from ..factories import make_account

pytestmark = pytest.mark.django_db


def test_a_manager_reassigns_chosen_accounts_through_preview_and_job(
        org, client, login, django_capture_on_commit_callbacks):
    login(org.west_manager)
    accounts = [make_account(org.west_rep, name=f"Bulk {i}") for i in range(3)]
    listing = client.get("/accounts/").content.decode()
    assert 'id="bulk-form"' in listing and f'name="ids" value="{accounts[0].pk}"' in listing
    chosen = {"ids": [a.pk for a in accounts[:2]], "action": "change_owner",
              "owner": org.west_rep2.pk}
    preview = client.post("/accounts/bulk/", {**chosen, "step": "preview"}).content.decode()
    assert "Will change" in preview and "Confirm" in preview
    assert Account.objects.filter(owner=org.west_rep2).count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/accounts/bulk/", {**chosen, "step": "confirm"})
    job = BackgroundJob.objects.get(kind="bulk_account")
    assert answer.status_code == 302 and answer["Location"].endswith(f"/jobs/{job.pk}/")
    assert job.status == "succeeded" and job.result["done"] == 2
    page = client.get(answer["Location"]).content.decode()
    assert "Refused" in page
    assert set(Account.objects.filter(owner=org.west_rep2)) == set(accounts[:2])


def test_everything_matching_the_filter_is_chosen_by_the_lists_own_filter(org, client, login):
    login(org.admin)
    for i in range(2):
        make_account(org.west_rep, name=f"Zeta {i}")
    make_account(org.west_rep, name="Other")
    preview = client.post("/accounts/bulk/", {
        "all": "1", "filter": "q=zeta", "action": "delete", "step": "preview"})
    assert '<dd data-count>2</dd>' in preview.content.decode()


def test_an_executive_sees_no_bulk_actions(org, client, login):
    make_account(org.west_rep)
    login(org.executive)
    assert 'id="bulk-form"' not in client.get("/accounts/").content.decode()
    assert 'name="ids"' not in client.get("/opportunities/").content.decode()
    assert client.get("/accounts/bulk/").status_code == 403


def test_this_page_chooses_every_row_shown_and_campaigns_are_offered(org, client, login):
    from salesplan.marketing.models import Campaign, CampaignMember, CampaignStatus

    from ..factories import make_lead

    campaign = Campaign.objects.create(name="Webinar", owner=org.marketer,
                                       status=CampaignStatus.ACTIVE)
    leads = [make_lead(org.west_rep, last_name=f"Paged{i}") for i in range(3)]
    login(org.marketer)
    listing = client.get("/leads/").content.decode()
    assert 'id="bulk-form"' in listing and 'name="page_ids"' in listing
    assert 'value="page" data-bulk-page' in listing
    page = client.get("/leads/bulk/", {"scope": "page", "page_ids": [x.pk for x in leads],
                                       "filter": ""}).content.decode()
    assert "3 rows chosen" in page and "Webinar" in page and "Add to campaign" in page
    preview = client.post("/leads/bulk/", {"ids": [x.pk for x in leads], "step": "preview",
                                           "action": "add_to_campaign",
                                           "campaign": campaign.pk}).content.decode()
    assert "<dd data-will-change>3</dd>" in preview
    assert not CampaignMember.objects.exists()


def test_contacts_list_offers_bulk_work_but_not_to_the_executive(org, client, login):
    from ..factories import make_contact

    make_contact(org.west_rep)
    login(org.west_rep)
    assert 'id="bulk-form"' in client.get("/contacts/").content.decode()
    login(org.executive)
    assert 'id="bulk-form"' not in client.get("/contacts/").content.decode()
    assert client.get("/contacts/bulk/").status_code == 403
