"""The lost updates the security review found, each replayed: concurrent board moves from
one read, a stale quote-line edit, two campaign edits from one read; and the pages that
post a stale or version-less form."""

import threading
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test import Client

from salesplan.core.errors import STALE_MESSAGE
from salesplan.marketing import services as marketing
from salesplan.marketing.models import Campaign
from salesplan.pipeline.models import Opportunity, OpportunityChange
from salesplan.proposals import services as proposals

from ..api.conftest import api_as, assert_problem  # noqa: F401 - the API caller fixture
from ..factories import make_opportunity
from ..proposals.test_pricing import shop  # noqa: F401 - the catalogue fixture

JSON = {"headers": {"Accept": "application/json"}}
MOVES = 20


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_twenty_board_moves_from_one_read_move_the_card_once(org):
    """On the board, 20 drops of one card drawn at the same version: one moves it, the
    other 19 are told to reload, and the history holds one move."""
    deal = make_opportunity(org.west_rep)
    read = deal.version
    stages = list(deal.pipeline.stages.filter(kind="open").order_by("position"))
    client = _logged_in(org.west_rep)
    statuses = [
        client.post(f"/opportunities/{deal.pk}/move/",
                    {"stage": stages[1 + n % (len(stages) - 1)].pk, "version": read}, **JSON
                    ).status_code
        for n in range(MOVES)]
    assert statuses.count(200) == 1 and statuses.count(409) == MOVES - 1
    deal.refresh_from_db()
    assert deal.version == read + 1 and deal.stage == stages[1]
    assert OpportunityChange.objects.filter(opportunity=deal, from_stage__isnull=False).count() == 1


@pytest.mark.parametrize("version", ["", "abc", "true", "1.0", "-1"])
def test_a_board_move_without_a_whole_version_moves_nothing(org, version):
    deal = make_opportunity(org.west_rep)
    target = deal.pipeline.stages.get(position=1)
    body = {"stage": target.pk} if version == "" else {"stage": target.pk, "version": version}
    response = _logged_in(org.west_rep).post(f"/opportunities/{deal.pk}/move/", body, **JSON)
    assert response.status_code == 409 and not response.json()["ok"]
    assert "Reload" in response.json()["message"]
    assert Opportunity.objects.get(pk=deal.pk).stage_id == deal.stage_id


def test_closing_lost_from_a_stale_dialog_writes_nothing(org):
    deal = make_opportunity(org.west_rep)
    read = deal.version
    client = _logged_in(org.west_rep)
    client.post(f"/opportunities/{deal.pk}/close/won/", {"version": read})
    response = client.post(f"/opportunities/{deal.pk}/close/lost/",
                           {"version": read, "lost_reason": "Budget"}, follow=True)
    assert STALE_MESSAGE in response.content.decode()
    deal.refresh_from_db()
    assert deal.status == "won" and deal.lost_reason == ""


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite runs one writer at a time; the sequential test covers it")
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_api_moves_from_one_read_move_the_deal_once(org, api_as):  # noqa: F811
    deal = make_opportunity(org.west_rep)
    read = deal.version
    target = deal.pipeline.stages.get(position=1)
    callers = [api_as(org.west_rep) for _ in range(MOVES)]
    statuses: list[int] = []
    start = threading.Barrier(MOVES)

    def move(api) -> None:
        try:
            start.wait()
            statuses.append(api.post(f"/opportunities/{deal.pk}/move",
                                     {"stage_id": target.pk, "version": read}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(api,)) for api in callers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [409] * (MOVES - 1)
    assert Opportunity.objects.get(pk=deal.pk).version == read + 1


def test_a_stale_quote_line_edit_does_not_overwrite_a_newer_quantity(org, api_as, shop):  # noqa: F811
    quote = proposals.create_quote(by=org.west_rep, opportunity=shop["opportunity"], lines=[
        {"product_id": shop["router"].pk, "quantity": D(1)}])
    line = proposals.current_version(quote).lines.get()
    rep, colleague = api_as(org.west_rep), api_as(org.west_rep)
    read = rep.get(f"/quotes/{quote.pk}").data["version"]
    first = colleague.patch(f"/quotes/{quote.pk}/lines/{line.pk}",
                            {"quantity": "5", "version": read})
    assert first.status_code == 200
    stale = rep.patch(f"/quotes/{quote.pk}/lines/{line.pk}", {"quantity": "2", "version": read})
    assert_problem(stale, 409)
    assert proposals.current_version(quote).lines.get().quantity == D(5)


def test_a_stale_quote_line_edit_on_the_page_is_refused_with_a_message(org, shop):  # noqa: F811
    quote = proposals.create_quote(by=org.west_rep, opportunity=shop["opportunity"], lines=[
        {"product_id": shop["router"].pk, "quantity": D(1)}])
    line = proposals.current_version(quote).lines.get()
    read = quote.version
    page = _logged_in(org.west_rep).get(f"/quotes/{quote.pk}/").content.decode()
    assert f'name="version" value="{read}"' in page
    proposals.update_line(quote, line, by=org.west_rep, quantity=D(5), expected_version=read)
    response = _logged_in(org.west_rep).post(
        f"/quotes/{quote.pk}/lines/{line.pk}/change/",
        {"quantity": "2", "discount_pct": "0", "version": read},
        headers={"HX-Request": "true"})
    assert response.status_code == 409 and response["HX-Refresh"] == "true"
    assert proposals.current_version(quote).lines.get().quantity == D(5)


def test_two_campaign_edits_from_one_read_the_second_is_a_conflict(org, api_as):  # noqa: F811
    campaign = marketing.create_campaign(by=org.marketer, data={
        "name": "Spring webinar", "budget": "5000", "currency": "USD"})
    one, two = api_as(org.marketer), api_as(org.admin)
    read = one.get(f"/marketing/campaigns/{campaign.pk}").data["version"]
    assert one.patch(f"/marketing/campaigns/{campaign.pk}",
                     {"budget": "6000", "version": read}).status_code == 200
    second = two.patch(f"/marketing/campaigns/{campaign.pk}", {"name": "Autumn", "version": read})
    assert assert_problem(second, 409)["current_version"] == read + 1
    campaign.refresh_from_db()
    assert (campaign.name, campaign.budget) == ("Spring webinar", D(6000))


def test_a_stale_campaign_page_edit_shows_the_reload_message(org):
    campaign = marketing.create_campaign(by=org.marketer, data={
        "name": "Spring webinar", "budget": "5000", "currency": "USD"})
    client = _logged_in(org.marketer)
    url = f"/marketing/campaigns/{campaign.pk}/"
    page = client.get(url).content.decode()
    assert f'name="version" value="{campaign.version}"' in page
    marketing.update_campaign(campaign, by=org.admin, data={"name": "Renamed"},
                              expected_version=campaign.version)
    form = {"action": "edit", "edit-name": "Mine", "edit-type": "webinar",
            "edit-channel": "web", "edit-status": "planned", "edit-budget": "5000",
            "edit-actual_cost": "0", "edit-currency": "USD", "edit-owner": org.marketer.pk,
            "version": 1}
    response = client.post(url, form, headers={"Referer": url}, follow=True)
    assert STALE_MESSAGE in response.content.decode()
    assert Campaign.objects.get(pk=campaign.pk).name == "Renamed"


@pytest.mark.parametrize("sent", [{"version": "1"}, {}], ids=["stale", "missing"])
def test_a_stale_or_version_less_settings_form_saves_nothing(org, sent):
    from salesplan.org.models import Company
    from salesplan.org.services_company import update_company

    company = Company.current()
    update_company(company, by=org.admin, data={"name": "Acme Sales"},
                   expected_version=company.version)
    form = {"name": "Mine", "default_currency": "USD", "fiscal_year_start_month": 1,
            "time_zone": "UTC", "working_days": [0], **sent}
    response = _logged_in(org.admin).post("/settings/", form, follow=True)
    assert STALE_MESSAGE in response.content.decode()
    assert Company.current().name == "Acme Sales"
