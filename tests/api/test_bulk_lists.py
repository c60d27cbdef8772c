"""Bulk actions on contacts and leads, add to campaign and export of the chosen rows."""

import csv
import io

import pytest

from salesplan.core.models import BackgroundJob
from salesplan.customers.models import Contact, Lead
from salesplan.marketing.models import Campaign, CampaignMember, CampaignStatus

from ..factories import make_account, make_contact, make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def start(caller, path, body) -> BackgroundJob:
        with django_capture_on_commit_callbacks(execute=True):
            answer = caller.post(path, {**body, "preview": False})
        assert answer.status_code == 202, answer.data
        return BackgroundJob.objects.get(pk=answer.data["id"])
    return start


@pytest.fixture
def campaign(org):
    return Campaign.objects.create(name="Spring webinar", owner=org.marketer,
                                   status=CampaignStatus.ACTIVE)


def test_marketing_adds_leads_to_a_campaign_each_row_with_its_outcome(org, api_as, run,
                                                                      campaign):
    leads = [make_lead(org.west_rep) for _ in range(3)]
    CampaignMember.objects.create(campaign=campaign, lead=leads[0])
    body = {"action": "add_to_campaign", "ids": [lead.pk for lead in leads],
            "values": {"campaign": campaign.pk, "response": "registered"}}
    preview = api_as(org.marketer).post("/leads/bulk", body).data
    assert preview["will_change"] == 2 and preview["will_refuse"] == 1
    assert preview["refused"][0] == {"id": leads[0].pk, "name": leads[0].full_name,
                                     "reason": "Already a member of this campaign.",
                                     "before": "", "after": ""}
    assert CampaignMember.objects.filter(campaign=campaign).count() == 1
    job = run(api_as(org.marketer), "/leads/bulk", body)
    assert job.result["done"] == 2 and job.result["refused"] == 1
    members = CampaignMember.objects.filter(campaign=campaign, lead__in=leads[1:])
    assert {m.response for m in members} == {"registered"} and members.count() == 2


def test_accounts_add_their_contacts_and_do_not_contact_is_respected(org, api_as, run,
                                                                     campaign):
    account = make_account(org.west_rep)
    reachable = make_contact(org.west_rep, account)
    make_contact(org.west_rep, account, do_not_contact=True)
    empty = make_account(org.west_rep)
    job = run(api_as(org.admin), "/accounts/bulk", {
        "action": "add_to_campaign", "ids": [account.pk, empty.pk],
        "values": {"campaign": campaign.pk}})
    rows = {r["id"]: r for r in job.result["rows"]}
    assert rows[account.pk]["status"] == "done" and rows[account.pk]["note"] == "1 contact added"
    assert rows[empty.pk]["status"] == "refused" and "No contact" in rows[empty.pk]["reason"]
    assert list(CampaignMember.objects.filter(campaign=campaign).values_list(
        "contact_id", flat=True)) == [reachable.pk]


def test_adding_to_a_campaign_is_for_who_manages_campaigns_and_an_open_one(org, api_as,
                                                                          campaign):
    lead = make_lead(org.west_rep)
    refused = api_as(org.west_rep).post("/leads/bulk", {
        "action": "add_to_campaign", "ids": [lead.pk], "values": {"campaign": campaign.pk}})
    assert refused.status_code == 403
    campaign.status = CampaignStatus.COMPLETED
    campaign.save()
    closed = api_as(org.marketer).post("/leads/bulk", {
        "action": "add_to_campaign", "ids": [lead.pk], "values": {"campaign": campaign.pk}})
    assert closed.status_code == 422 and "values.campaign" in closed.data["errors"]
    assert not CampaignMember.objects.exists()


def test_export_writes_only_the_rows_the_user_may_see(org, api_as, run, client):
    mine = [make_contact(org.west_rep, last_name=f"Mine{i}") for i in range(2)]
    theirs = make_contact(org.east_rep, last_name="Hidden")
    job = run(api_as(org.west_rep), "/contacts/bulk", {
        "action": "export", "ids": [c.pk for c in mine] + [theirs.pk]})
    assert job.result["done"] == 2 and job.result["refused"] == 1
    assert job.result["file_name"].endswith(".csv")
    text = job.file.open("rb").read().decode("utf-8-sig")
    names = [row["Last name"] for row in csv.DictReader(io.StringIO(text))]
    assert names == ["Mine0", "Mine1"] and "Hidden" not in text
    followed = api_as(org.west_rep).get(f"/jobs/{job.pk}").data
    assert followed["download_url"]


def test_export_with_the_lists_chosen_columns(org, api_as, run):
    lead = make_lead(org.west_rep, company="=cmd()", last_name="Formula")
    job = run(api_as(org.west_rep), "/leads/bulk", {
        "action": "export", "ids": [lead.pk], "values": {"columns": "name,company,owner"}})
    rows = list(csv.reader(io.StringIO(job.file.open("rb").read().decode("utf-8-sig"))))
    assert rows[0] == ["Name", "Company", "Owner"]
    assert rows[1][1].startswith("'") and rows[1][2] == str(org.west_rep)
    bad = api_as(org.west_rep).post("/leads/bulk", {
        "action": "export", "ids": [lead.pk], "values": {"columns": "nonsense"}})
    assert bad.status_code == 422 and "values.columns" in bad.data["errors"]
    odd = api_as(org.west_rep).post("/leads/bulk", {
        "action": "export", "ids": [lead.pk], "values": {"columns": 7}})
    assert odd.status_code == 422 and "values.columns" in odd.data["errors"]


def test_contacts_and_leads_change_owner_in_bulk_by_the_lists_filter(org, api_as, run):
    for i in range(3):
        make_lead(org.west_rep, company=f"Bulkable {i}")
    make_lead(org.west_rep, company="Other")
    job = run(api_as(org.west_manager), "/leads/bulk", {
        "action": "change_owner", "filter": {"q": "bulkable"},
        "values": {"owner": org.west_rep2.pk}})
    assert job.result["done"] == 3
    assert Lead.objects.filter(owner=org.west_rep2).count() == 3
    contact = make_contact(org.west_rep)
    job = run(api_as(org.west_manager), "/contacts/bulk", {
        "action": "change_owner", "ids": [contact.pk], "values": {"owner": org.west_rep2.pk}})
    assert Contact.objects.get(pk=contact.pk).owner_id == org.west_rep2.pk


def test_an_action_a_list_does_not_have_is_refused_naming_it(org, api_as):
    lead = make_lead(org.west_rep)
    answer = api_as(org.west_rep).post("/leads/bulk", {"action": "change_stage",
                                                       "ids": [lead.pk]})
    assert answer.status_code == 422 and "action" in answer.data["errors"]
    assert api_as(org.executive).post("/contacts/bulk", {"action": "export",
                                                         "ids": [1]}).status_code == 403
