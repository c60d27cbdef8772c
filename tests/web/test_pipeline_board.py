"""The pipeline board and the opportunity actions: move, close won, close lost."""

from salesplan.pipeline.models import OpportunityChange, StageKind
from tests.factories import make_account, make_opportunity

JSON = {"HTTP_ACCEPT": "application/json"}


def test_board_shows_cards_in_stage_columns(login, org):
    deal = make_opportunity(org.west_rep, name="Acme deal", stage_position=1)
    page = login(org.west_rep).get("/pipeline/").content.decode()
    assert f'data-opportunity-id="{deal.pk}"' in page
    assert f'data-stage-id="{deal.stage_id}"' in page
    assert "Move to…" in page and "Sortable.min.js" in page


def test_board_filters_by_owner(login, org):
    make_opportunity(org.west_rep, name="Rep one deal")
    make_opportunity(org.west_rep2, name="Rep two deal")
    client = login(org.west_manager)
    page = client.get("/pipeline/", {"owner": org.west_rep.pk}).content.decode()
    assert "Rep one deal" in page and "Rep two deal" not in page


def test_dragging_a_card_moves_the_deal_and_records_it(login, org):
    deal = make_opportunity(org.west_rep)
    target = deal.pipeline.stages.get(position=2)
    response = login(org.west_rep).post(f"/opportunities/{deal.pk}/move/", {
        "stage": target.pk, "version": deal.version}, **JSON)
    assert response.status_code == 200
    assert response.json()["ok"] and response.json()["version"] == deal.version + 1
    deal.refresh_from_db()
    assert deal.stage == target
    change = OpportunityChange.objects.filter(opportunity=deal, to_stage=target).get()
    assert change.changed_by == org.west_rep


def test_stale_card_snaps_back(login, org):
    deal = make_opportunity(org.west_rep)
    target = deal.pipeline.stages.get(position=2)
    response = login(org.west_rep).post(f"/opportunities/{deal.pk}/move/", {
        "stage": target.pk, "version": deal.version - 1 or 99}, **JSON)
    assert response.status_code == 409 and not response.json()["ok"]
    assert "Reload" in response.json()["message"]
    deal.refresh_from_db()
    assert deal.stage.position == 0


def test_moving_to_lost_needs_a_reason(login, org):
    deal = make_opportunity(org.west_rep)
    lost = deal.pipeline.stages.get(kind=StageKind.LOST)
    client = login(org.west_rep)
    response = client.post(f"/opportunities/{deal.pk}/move/", {"stage": lost.pk,
                                                                  "version": deal.version}, **JSON)
    assert response.status_code == 400 and "lost" in response.json()["message"]
    deal.refresh_from_db()
    assert deal.status == StageKind.OPEN


def test_executive_cannot_move_and_other_team_cannot_see(login, org):
    deal = make_opportunity(org.west_rep)
    target = deal.pipeline.stages.get(position=1)
    response = login(org.executive).post(f"/opportunities/{deal.pk}/move/",
                                         {"stage": target.pk, "version": deal.version}, **JSON)
    assert response.status_code == 403
    response = login(org.east_rep).post(f"/opportunities/{deal.pk}/move/",
                                        {"stage": target.pk, "version": deal.version}, **JSON)
    assert response.status_code == 404
    deal.refresh_from_db()
    assert deal.stage.position == 0
    assert not OpportunityChange.objects.filter(opportunity=deal, to_stage=target).exists()


def test_move_fallback_form_redirects_back_to_the_board(login, org):
    deal = make_opportunity(org.west_rep)
    target = deal.pipeline.stages.get(position=1)
    client = login(org.west_rep)
    response = client.post(f"/opportunities/{deal.pk}/move/", {
        "stage": target.pk, "version": deal.version, "next": "/pipeline/"})
    assert response["Location"] == "/pipeline/"
    deal.refresh_from_db()
    assert deal.stage == target


def test_close_won_and_close_lost(login, org):
    account = make_account(org.west_rep)
    won, lost = make_opportunity(org.west_rep, account), make_opportunity(org.west_rep, account)
    client = login(org.west_rep)
    client.post(f"/opportunities/{won.pk}/close/won/", {"version": won.version})
    won.refresh_from_db()
    assert won.status == StageKind.WON and won.closed_at
    response = client.post(f"/opportunities/{lost.pk}/close/lost/", {"version": lost.version},
                           follow=True)
    assert "Say why the deal was lost" in response.content.decode()
    lost.refresh_from_db()
    assert lost.status == StageKind.OPEN
    client.post(f"/opportunities/{lost.pk}/close/lost/", {"version": lost.version,
                                                           "lost_reason": "Price"})
    lost.refresh_from_db()
    assert (lost.status, lost.lost_reason) == (StageKind.LOST, "Price")


def test_opportunity_page_shows_stage_history(login, org):
    deal = make_opportunity(org.west_rep)
    target = deal.pipeline.stages.get(position=1)
    client = login(org.west_rep)
    client.post(f"/opportunities/{deal.pk}/move/", {"stage": target.pk})
    page = client.get(f"/opportunities/{deal.pk}/").content.decode()
    assert "Stage history" in page and target.name in page


def _summary(page: str, stage_id: int) -> str:
    heading = page.index(f'id="stage-{stage_id}-heading"')
    return page[heading:page.index("</header>", heading)]


def test_board_totals_are_per_currency(login, org):
    from decimal import Decimal

    deal = make_opportunity(org.west_rep, amount=Decimal("1000.00"), currency="USD")
    make_opportunity(org.west_rep, amount=Decimal("2500.00"), currency="USD")
    make_opportunity(org.west_rep, amount=Decimal("500.00"), currency="EUR")
    summary = _summary(login(org.west_rep).get("/pipeline/").content.decode(), deal.stage_id)
    assert "3 deals" in summary
    assert "EUR 500<" in summary and "USD 3,500<" in summary
    assert "4,000" not in summary


def test_board_query_count_does_not_grow_with_deals_or_currencies(login, org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(org.west_rep)
    make_opportunity(org.west_rep)
    client.get("/pipeline/")  # session and company settings are cached after this
    with CaptureQueriesContext(connection) as few:
        client.get("/pipeline/")
    for position, currency in [(0, "EUR"), (1, "GBP"), (2, "USD"), (0, "JPY"), (1, "USD")]:
        make_opportunity(org.west_rep, stage_position=position, currency=currency)
    with CaptureQueriesContext(connection) as many:
        client.get("/pipeline/")
    assert len(many) == len(few)


def test_board_filters_sit_on_their_own_row_under_the_title(login, org):
    page = login(org.west_rep).get("/pipeline/").content.decode()
    title, form = page.index("<h1>Pipeline board</h1>"), page.index('class="board-filters"')
    assert title < form and "</div>" in page[title:form]
    assert page.count('class="board-filter"') == 2
