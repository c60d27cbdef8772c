"""The endpoints beyond plain records: lead conversion and duplicates, stage moves and
history, completing activities, pipelines, search, the caller, and audit."""

from decimal import Decimal

from salesplan.customers.models import Account, Contact, Lead
from salesplan.pipeline.models import Opportunity, OpportunityChange
from tests.factories import (
    make_account,
    make_activity,
    make_contact,
    make_lead,
    make_opportunity,
)

from .conftest import assert_problem


def test_convert_lead_creates_account_contact_and_deal(org, api_as):
    lead = make_lead(org.west_rep, company="Globex", first_name="Hank", last_name="Scorpio")
    response = api_as(org.west_rep).post(f"/leads/{lead.pk}/convert", {
        "opportunity": {"name": "Globex doomsday device", "amount": "1000000.00"}})
    assert response.status_code == 200, response.data
    data = response.data
    assert data["lead"]["status"] == "converted"
    assert data["account"]["name"] == "Globex"
    assert data["contact"]["account_id"] == data["account"]["id"]
    assert data["opportunity"]["amount"] == "1000000.00"
    assert data["lead"]["converted_opportunity_id"] == data["opportunity"]["id"]


def test_convert_into_existing_account_without_deal(org, api_as):
    account = make_account(org.west_rep, name="Initech")
    lead = make_lead(org.west_rep, company="Initech")
    api = api_as(org.west_rep)
    duplicates = api.get(f"/leads/{lead.pk}/duplicates")
    assert [a["id"] for a in duplicates.data["accounts"]] == [account.pk]
    response = api.post(f"/leads/{lead.pk}/convert",
                        {"account_id": account.pk, "create_opportunity": False})
    assert response.status_code == 200, response.data
    assert response.data["account"]["id"] == account.pk and response.data["opportunity"] is None
    assert Account.objects.count() == 1 and not Opportunity.objects.exists()
    again = api.post(f"/leads/{lead.pk}/convert", {"account_id": account.pk})
    assert_problem(again, 422, "status")


def test_convert_into_invisible_account_changes_nothing(org, api_as):
    theirs = make_account(org.east_rep)
    lead = make_lead(org.west_rep)
    response = api_as(org.west_rep).post(f"/leads/{lead.pk}/convert", {"account_id": theirs.pk})
    assert_problem(response, 422, "account_id")
    lead.refresh_from_db()
    assert lead.status == "new" and Contact.objects.count() == 0
    assert Account.objects.count() == 1


def test_duplicates_never_show_other_teams_records(org, api_as):
    make_account(org.east_rep, name="Umbrella")
    lead = make_lead(org.west_rep, company="Umbrella")
    assert api_as(org.west_rep).get(f"/leads/{lead.pk}/duplicates").data == {
        "accounts": [], "contacts": []}


def test_move_opportunity_and_read_its_history(org, api_as):
    opp = make_opportunity(org.west_rep)
    stages = {s.position: s for s in opp.pipeline.stages.all()}
    api = api_as(org.west_rep)
    moved = api.post(f"/opportunities/{opp.pk}/move", {"stage_id": stages[2].pk, "version": 1})
    assert moved.status_code == 200, moved.data
    assert moved.data["stage_id"] == stages[2].pk and moved.data["version"] == 2
    assert moved.data["probability"] == stages[2].probability
    api.patch(f"/opportunities/{opp.pk}", {"amount": "20000.00", "version": 2})
    history = api.get(f"/opportunities/{opp.pk}/history").data
    assert [(h["field"], h["to_stage_name"], h["to_amount"]) for h in history] == [
        ("stage", stages[2].name, None), ("amount", None, "20000.00")]
    assert history[1]["from_amount"] == "10000.00" and history[1]["currency"] == "USD"


def test_move_refuses_stale_version_missing_reason_and_foreign_stage(org, api_as):
    from salesplan.pipeline.models import Pipeline

    opp = make_opportunity(org.west_rep)
    lost = opp.pipeline.stages.get(kind="lost")
    other = Pipeline.objects.exclude(pk=opp.pipeline_id).first().stages.first()
    api = api_as(org.west_rep)
    url = f"/opportunities/{opp.pk}/move"
    assert_problem(api.post(url, {"stage_id": lost.pk, "version": 7}), 409)
    assert_problem(api.post(url, {"stage_id": lost.pk, "version": 1}), 422, "lost_reason")
    assert_problem(api.post(url, {"stage_id": other.pk, "version": 1}), 422, "stage_id")
    assert_problem(api_as(org.executive).post(url, {"stage_id": lost.pk, "version": 1,
                                                    "lost_reason": "Price"}), 403)
    opp.refresh_from_db()
    assert (opp.stage.position, opp.version) == (0, 1)
    closed = api.post(url, {"stage_id": lost.pk, "version": 1, "lost_reason": "Price"})
    assert closed.data["status"] == "lost" and closed.data["lost_reason"] == "Price"
    assert OpportunityChange.objects.filter(opportunity=opp, field="stage").count() == 1


def test_complete_activity(org, api_as):
    activity = make_activity(org.west_rep, make_account(org.west_rep))
    api = api_as(org.west_rep)
    done = api.post(f"/activities/{activity.pk}/complete", {"outcome": "positive"})
    assert done.status_code == 200, done.data
    assert done.data["done"] and done.data["done_at"] and done.data["outcome"] == "positive"
    assert_problem(api.post(f"/activities/{activity.pk}/complete", {"outcome": "great"}),
                   422, "outcome")
    assert_problem(api_as(org.east_rep).post(f"/activities/{activity.pk}/complete", {}), 404)


def test_pipelines_list_stages_in_order(org, api_as):
    pipelines = api_as(org.west_rep).get("/pipelines").data
    assert pipelines[0]["is_default"]
    positions = [s["position"] for s in pipelines[0]["stages"]]
    assert positions == sorted(positions) and {s["kind"] for s in pipelines[0]["stages"]} == {
        "open", "won", "lost"}


def test_search_finds_only_visible_records(org, api_as):
    mine = make_account(org.west_rep, name="Zenith Labs")
    make_account(org.east_rep, name="Zenith Foods")
    make_contact(org.west_rep, mine, first_name="Zed", last_name="Zenith")
    found = api_as(org.west_rep).get("/search", q="zenith").data
    assert [h["title"] for h in found["accounts"]] == ["Zenith Labs"]
    assert [h["id"] for h in found["contacts"]] == [Contact.objects.get().pk]
    assert found["leads"] == [] and found["opportunities"] == []
    assert_problem(api_as(org.west_rep).get("/search"), 422, "q")


def test_me_tells_role_and_permissions(org, api_as):
    me = api_as(org.executive).get("/me").data
    assert me["role"] == "executive" and me["team_name"] == "Region"
    assert me["permissions"]["account"] == {"view": "all", "create": "none",
                                            "change": "none", "delete": "none"}


def test_lead_cannot_be_marked_converted_by_an_edit(org, api_as):
    lead = make_lead(org.west_rep)
    response = api_as(org.west_rep).patch(f"/leads/{lead.pk}",
                                          {"status": "converted", "version": 1})
    assert_problem(response, 422, "status")
    assert Lead.objects.get().status == "new"


def test_opportunity_edit_cannot_change_stage(org, api_as):
    opp = make_opportunity(org.west_rep)
    response = api_as(org.west_rep).patch(f"/opportunities/{opp.pk}",
                                          {"stage_id": opp.stage_id + 1, "version": 1})
    assert_problem(response, 422, "stage_id")
    assert Opportunity.objects.get().amount == Decimal("10000.00")
