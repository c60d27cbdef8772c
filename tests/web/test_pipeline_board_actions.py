"""The board's lost-reason drop, won with undo, column totals, days in stage, quick-add,
paging of cards and the move menu on demand."""

import re
from datetime import timedelta
from decimal import Decimal

import time_machine
from django.utils import timezone

from salesplan.core.audit import history_for
from salesplan.core.clock import company_today
from salesplan.pipeline.models import Opportunity, OpportunityChange, Pipeline, StageKind
from tests.factories import make_account, make_opportunity

JSON = {"HTTP_ACCEPT": "application/json"}


def _summary(page: str, stage_id: int) -> str:
    start = page.index(f'id="summary-{stage_id}"')
    return page[start:page.index("</p>", start)]


def test_drop_on_lost_without_a_reason_is_refused_naming_the_reason(login, org):
    deal = make_opportunity(org.west_rep)
    lost = deal.pipeline.stages.get(kind=StageKind.LOST)
    response = login(org.west_rep).post(f"/opportunities/{deal.pk}/move/", {
        "stage": lost.pk, "version": deal.version, "lost_reason": "  "}, **JSON)
    assert response.status_code == 400
    assert response.json() == {"ok": False, "message": "Say why the deal was lost."}
    deal.refresh_from_db()
    assert deal.status == StageKind.OPEN and deal.lost_reason == ""


def test_drop_on_lost_with_a_reason_saves_it(login, org):
    deal = make_opportunity(org.west_rep)
    lost = deal.pipeline.stages.get(kind=StageKind.LOST)
    response = login(org.west_rep).post(f"/opportunities/{deal.pk}/move/", {
        "stage": lost.pk, "version": deal.version, "lost_reason": "Went with a competitor"},
        **JSON)
    assert response.status_code == 200 and response.json()["ok"]
    deal.refresh_from_db()
    assert (deal.status, deal.lost_reason) == (StageKind.LOST, "Went with a competitor")


def test_board_has_the_lost_dialog_and_won_confirmation_only_for_movers(login, org):
    make_opportunity(org.west_rep)
    page = login(org.west_rep).get("/pipeline/").content.decode()
    assert 'id="lost-dialog"' in page and 'name="lost_reason"' in page and "required" in page
    assert 'id="won-dialog"' in page and "Close as won" in page and "data-undo" in page
    executive = login(org.executive).get("/pipeline/").content.decode()
    assert "data-readonly" in executive
    for control in ('id="lost-dialog"', 'id="won-dialog"', "Move to…", "quick-add",
                    "data-undo"):
        assert control not in executive


def test_undo_of_won_restores_the_stage_and_the_audit_shows_both(login, org):
    deal = make_opportunity(org.west_rep, stage_position=2)
    before = deal.stage
    won = deal.pipeline.stages.get(kind=StageKind.WON)
    client = login(org.west_rep)
    moved = client.post(f"/opportunities/{deal.pk}/move/", {
        "stage": won.pk, "version": deal.version}, **JSON).json()
    assert moved["ok"]
    response = client.post(f"/opportunities/{deal.pk}/reopen/", {"version": moved["version"]},
                           **JSON)
    assert response.status_code == 200 and response.json()["stage"] == before.pk
    deal.refresh_from_db()
    assert (deal.stage, deal.status, deal.closed_at) == (before, StageKind.OPEN, None)
    assert deal.version == moved["version"] + 1
    history = list(OpportunityChange.objects.filter(opportunity=deal, from_stage__isnull=False)
                   .order_by("changed_at", "id").values_list("from_stage", "to_stage"))
    assert history == [(before.pk, won.pk), (won.pk, before.pk)]
    audit = list(history_for(deal).filter(field="stage")
                 .order_by("changed_at", "id").values_list("old_value", "new_value"))
    assert audit == [(str(before), str(won)), (str(won), str(before))]


def test_undo_needs_the_current_version_and_the_right_to_change(login, org):
    deal = make_opportunity(org.west_rep, stage_position=1)
    won = deal.pipeline.stages.get(kind=StageKind.WON)
    client = login(org.west_rep)
    moved = client.post(f"/opportunities/{deal.pk}/move/", {
        "stage": won.pk, "version": deal.version}, **JSON).json()
    stale = client.post(f"/opportunities/{deal.pk}/reopen/", {"version": moved["version"] - 1},
                        **JSON)
    assert stale.status_code == 409
    missing = client.post(f"/opportunities/{deal.pk}/reopen/", {}, **JSON)
    assert missing.status_code == 409
    refused = login(org.executive).post(f"/opportunities/{deal.pk}/reopen/",
                                        {"version": moved["version"]}, **JSON)
    assert refused.status_code == 403
    assert Opportunity.objects.get(pk=deal.pk).status == StageKind.WON


def test_undo_of_an_open_deal_is_refused(login, org):
    deal = make_opportunity(org.west_rep)
    response = login(org.west_rep).post(f"/opportunities/{deal.pk}/reopen/",
                                        {"version": deal.version}, **JSON)
    assert response.status_code == 400 and "open already" in response.json()["message"]


def test_column_totals_and_weighted_totals_per_currency(login, org):
    deals = [make_opportunity(org.west_rep, amount=Decimal(amount), currency=currency)
             for amount, currency in [("1000.00", "USD"), ("3000.00", "USD"), ("800.00", "EUR")]]
    for deal, probability in zip(deals, [10, 50, 25], strict=True):
        Opportunity.objects.filter(pk=deal.pk).update(probability=probability)
    first = deals[0]
    make_opportunity(org.west_rep, stage_position=1, amount=Decimal("99.00"), currency="GBP")
    summary = _summary(login(org.west_rep).get("/pipeline/").content.decode(), first.stage_id)
    assert "3 deals" in summary
    assert re.search(r'data-currency-total="EUR" data-amount="800.00" data-weighted="200.00"',
                     summary)
    assert re.search(r'data-currency-total="USD" data-amount="4000.00" data-weighted="1600.00"',
                     summary)
    assert "GBP" not in summary and "4,800" not in summary


def test_summaries_are_redrawn_after_a_move(login, org):
    deal = make_opportunity(org.west_rep, amount=Decimal("700.00"), currency="USD")
    target = deal.pipeline.stages.get(position=1)
    client = login(org.west_rep)
    client.post(f"/opportunities/{deal.pk}/move/", {"stage": target.pk,
                                                     "version": deal.version}, **JSON)
    page = client.get(f"/pipeline/{deal.pipeline_id}/summaries/").content.decode()
    assert 'hx-swap-oob="true"' in page
    assert "0 deals" in _summary(page, deal.stage_id)
    assert 'data-amount="700.00"' in _summary(page, target.pk)


def test_summaries_count_only_the_deals_the_user_sees(login, org):
    mine = make_opportunity(org.west_rep, currency="USD")
    make_opportunity(org.east_rep, currency="USD")
    page = login(org.west_rep).get(f"/pipeline/{mine.pipeline_id}/summaries/").content.decode()
    assert "1 deal<" in _summary(page, mine.stage_id)


def test_days_in_stage_and_ageing_colours(login, org):
    with time_machine.travel(timezone.now() - timedelta(days=40)):
        stale = make_opportunity(org.west_rep, name="Old deal")
    with time_machine.travel(timezone.now() - timedelta(days=20)):
        ageing = make_opportunity(org.west_rep, name="Middle deal")
    fresh = make_opportunity(org.west_rep, name="New deal")
    page = login(org.west_rep).get("/pipeline/").content.decode()

    def card(deal):
        start = page.index(f'data-opportunity-id="{deal.pk}"')
        return page[page.rindex("<li", 0, start):page.index("</li>", start)]

    assert "ageing-stale" in card(stale) and 'data-days-in-stage="40"' in card(stale)
    assert "ageing-ageing" in card(ageing) and 'data-days-in-stage="20"' in card(ageing)
    assert "ageing-fresh" in card(fresh) and 'data-days-in-stage="0"' in card(fresh)
    assert "amber after 14 days" in card(fresh) and "red after 30 days" in card(fresh)


def test_days_in_stage_count_from_the_last_move_into_the_stage(login, org):
    with time_machine.travel(timezone.now() - timedelta(days=60)):
        deal = make_opportunity(org.west_rep)
    target = deal.pipeline.stages.get(position=1)
    client = login(org.west_rep)
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        client.post(f"/opportunities/{deal.pk}/move/", {"stage": target.pk,
                                                         "version": deal.version})
    page = client.get("/pipeline/").content.decode()
    start = page.index(f'data-opportunity-id="{deal.pk}"')
    assert 'data-days-in-stage="3"' in page[start:page.index("</li>", start)]


def test_quick_add_creates_the_deal_in_that_stage(login, org):
    account = make_account(org.west_rep, name="Initech")
    stage = Pipeline.objects.get(is_default=True).stages.get(position=2)
    client = login(org.west_rep)
    prefix = f"add{stage.pk}"
    response = client.post(f"/pipeline/stages/{stage.pk}/quick-add/", {
        f"{prefix}-name": "Initech renewal", f"{prefix}-account": account.pk,
        f"{prefix}-account_search": "Initech", f"{prefix}-amount": "12500.00",
        f"{prefix}-close_date": "2027-03-31"})
    assert response.status_code == 200
    deal = Opportunity.objects.get(name="Initech renewal")
    assert (deal.stage, deal.pipeline, deal.account, deal.owner) == (
        stage, stage.pipeline, account, org.west_rep)
    assert deal.amount == Decimal("12500.00") and deal.probability == stage.probability
    body = response.content.decode()
    assert f'hx-swap-oob="afterbegin:#cards-{stage.pk}"' in body
    assert f'data-opportunity-id="{deal.pk}"' in body
    assert 'data-amount="12500.00"' in _summary(body, stage.pk)


def test_quick_add_without_a_name_shows_the_error_and_creates_nothing(login, org):
    account = make_account(org.west_rep)
    deal = make_opportunity(org.west_rep)
    prefix = f"add{deal.stage_id}"
    before = Opportunity.objects.count()
    response = login(org.west_rep).post(f"/pipeline/stages/{deal.stage_id}/quick-add/", {
        f"{prefix}-name": "", f"{prefix}-account": account.pk})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert Opportunity.objects.count() == before


def test_board_offers_quick_add_in_open_columns_only(login, org):
    deal = make_opportunity(org.west_rep)
    page = login(org.west_rep).get("/pipeline/").content.decode()
    closed = deal.pipeline.stages.exclude(kind=StageKind.OPEN)
    for stage in deal.pipeline.stages.filter(kind=StageKind.OPEN):
        assert f'hx-post="/pipeline/stages/{stage.pk}/quick-add/"' in page
    for stage in closed:
        assert f"/pipeline/stages/{stage.pk}/quick-add/" not in page


def test_quick_add_is_refused_to_the_executive(login, org):
    account = make_account(org.west_rep)
    deal = make_opportunity(org.west_rep)
    prefix = f"add{deal.stage_id}"
    response = login(org.executive).post(f"/pipeline/stages/{deal.stage_id}/quick-add/", {
        f"{prefix}-name": "Sneaky", f"{prefix}-account": account.pk})
    assert response.status_code == 403
    assert not Opportunity.objects.filter(name="Sneaky").exists()


def test_cards_load_page_by_page_with_the_keyset_cursor(login, org):
    account = make_account(org.west_rep)
    today = company_today()
    deals = [make_opportunity(org.west_rep, account, close_date=today + timedelta(days=n))
             for n in range(30)]
    client = login(org.west_rep)
    page = client.get("/pipeline/").content.decode()
    shown = [d for d in deals if f'data-opportunity-id="{d.pk}"' in page]
    assert shown == deals[:25]
    more = re.search(r'hx-get="(/pipeline/stages/\d+/cards/\?cursor=[^"]+)" hx-trigger="revealed"',
                     page)
    assert more
    rest = client.get(more.group(1).replace("&amp;", "&")).content.decode()
    assert [d for d in deals if f'data-opportunity-id="{d.pk}"' in rest] == deals[25:]
    assert 'hx-trigger="revealed"' not in rest


def test_next_page_of_cards_keeps_the_owner_filter_and_visibility(login, org):
    account = make_account(org.west_rep)
    mine = make_opportunity(org.west_rep, account)
    make_opportunity(org.west_rep2, name="Colleague deal")
    make_opportunity(org.east_rep, name="Other team deal")
    client = login(org.west_rep)
    page = client.get(f"/pipeline/stages/{mine.stage_id}/cards/").content.decode()
    assert f'data-opportunity-id="{mine.pk}"' in page and "Other team deal" not in page
    manager = login(org.west_manager)
    page = manager.get(f"/pipeline/stages/{mine.stage_id}/cards/",
                       {"owner": org.west_rep2.pk}).content.decode()
    assert "Colleague deal" in page and f'data-opportunity-id="{mine.pk}"' not in page


def test_cards_are_compact_and_load_the_move_menu_on_demand(login, org):
    deal = make_opportunity(org.west_rep)
    client = login(org.west_rep)
    page = client.get("/pipeline/").content.decode()
    assert 'name="stage"' not in page[page.index('class="board"'):]
    assert f'hx-get="/opportunities/{deal.pk}/move-menu/"' in page
    menu = client.get(f"/opportunities/{deal.pk}/move-menu/").content.decode()
    assert f'name="version" value="{deal.version}"' in menu and 'name="stage"' in menu
    assert f'<option value="{deal.stage_id}"' not in menu
    assert login(org.executive).get(f"/opportunities/{deal.pk}/move-menu/").status_code == 403
    assert login(org.east_rep).get(f"/opportunities/{deal.pk}/move-menu/").status_code == 404
