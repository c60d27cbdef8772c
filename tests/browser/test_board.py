"""The pipeline board in Chromium: a lost deal dropped with its reason, a won deal
confirmed and then undone."""

import pytest
from django.db.models import F
from playwright.sync_api import expect

from salesplan.core.audit import history_for
from salesplan.pipeline.models import Opportunity, Stage, StageKind
from tests.factories import make_account, make_opportunity

from .conftest import log_in
from .test_journeys import _wait_for

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def _open_board(page, org):
    # Wide enough for every column, the closed ones included, to be on screen at once.
    page.set_viewport_size({"width": 2400, "height": 900})
    log_in(page, org.west_rep, org.password)
    page.goto("/pipeline/")


def _drag(page, deal, stage):
    page.wait_for_function(
        "selector => window.Sortable && window.Sortable.get(document.querySelector(selector))",
        arg=f"[data-stage-id='{stage.pk}']")
    # A card that has just snapped back may still be settling: drag again until it lands.
    for _attempt in range(3):
        page.locator(f"[data-opportunity-id='{deal.pk}']").drag_to(
            page.locator(f"[data-stage-id='{stage.pk}']"))
        if _card_in(page, stage.pk, deal).count():
            return
        page.wait_for_timeout(300)


def _card_in(page, stage_id: int, deal):
    return page.locator(f"[data-stage-id='{stage_id}'] [data-opportunity-id='{deal.pk}']")


def test_drop_a_deal_on_closed_lost_with_its_reason(page, org):
    deal = make_opportunity(org.west_rep, name="Globex expansion")
    lost = deal.pipeline.stages.get(kind=StageKind.LOST)
    _open_board(page, org)
    _drag(page, deal, lost)

    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Why was “Globex expansion” lost?")
    # Cancelling puts the card back where it was.
    dialog.get_by_role("button", name="Cancel").click()
    expect(_card_in(page, deal.stage_id, deal)).to_be_visible()

    # Someone else changed the deal meanwhile: the server's refusal shows in the dialog.
    Opportunity.objects.filter(pk=deal.pk).update(version=F("version") + 1)
    _drag(page, deal, lost)
    dialog.get_by_label("Lost reason").fill("Budget frozen until next year")
    dialog.get_by_role("button", name="Close as lost").click()
    expect(dialog.get_by_role("alert")).to_contain_text("changed by someone else")
    assert Opportunity.objects.get(pk=deal.pk).status == StageKind.OPEN
    dialog.get_by_role("button", name="Cancel").click()

    page.reload()
    _drag(page, deal, lost)
    dialog.get_by_label("Lost reason").fill("Budget frozen until next year")
    dialog.get_by_role("button", name="Close as lost").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(f"#summary-{lost.pk}")).to_contain_text("1 deal")
    _wait_for(lambda: Opportunity.objects.get(pk=deal.pk).status == StageKind.LOST)
    assert Opportunity.objects.get(pk=deal.pk).lost_reason == "Budget frozen until next year"


def test_drop_on_won_confirm_then_undo(page, org):
    deal = make_opportunity(org.west_rep, name="Hooli platform", stage_position=1)
    before, won = deal.stage, deal.pipeline.stages.get(kind=StageKind.WON)
    _open_board(page, org)
    _drag(page, deal, won)
    expect(page.get_by_role("dialog")).to_contain_text("Close “Hooli platform” as won?")
    page.get_by_role("button", name="Close as won").click()
    expect(page.locator(f"#summary-{won.pk}")).to_contain_text("1 deal")
    _wait_for(lambda: Opportunity.objects.get(pk=deal.pk).status == StageKind.WON)

    page.get_by_role("button", name="Undo").click()
    expect(_card_in(page, before.pk, deal)).to_be_visible()
    expect(page.locator(f"#summary-{won.pk}")).to_contain_text("0 deals")
    _wait_for(lambda: Opportunity.objects.get(pk=deal.pk).stage_id == before.pk)
    reopened = Opportunity.objects.get(pk=deal.pk)
    assert reopened.status == StageKind.OPEN
    assert history_for(deal).filter(field="stage").count() == 2


def test_quick_add_a_deal_to_a_column(page, org):
    make_account(org.west_rep, name="Vandelay Industries")
    stage = Stage.objects.get(pipeline__is_default=True, position=1)
    _open_board(page, org)
    column = page.locator(f"section:has(#cards-{stage.pk})")
    column.get_by_text("+ Add a deal").click()
    column.get_by_label("Name").fill("Vandelay imports")
    column.get_by_label("Account").fill("Vandelay")
    column.get_by_role("option", name="Vandelay Industries").click()
    column.get_by_label("Amount").fill("4200")
    column.get_by_role("button", name=f"Add to {stage.name}").click()

    expect(column.get_by_role("link", name="Vandelay imports")).to_be_visible()
    expect(page.locator(f"#summary-{stage.pk}")).to_contain_text("1 deal")
    deal = Opportunity.objects.get(name="Vandelay imports")
    assert (deal.stage_id, deal.owner_id) == (stage.pk, org.west_rep.pk)
