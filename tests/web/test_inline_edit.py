"""Inline edit of a list cell: saved through the service with the row's version; a stale
edit is 409 with the current value, a bad value 422 naming the field, nothing written."""

from decimal import Decimal

import pytest

from salesplan.core.models import AuditEntry
from salesplan.pipeline.models import Stage, StageKind

from ..factories import make_account, make_lead, make_opportunity

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def test_the_list_offers_cells_to_change_and_a_cell_saves_with_its_version(org, client, login):
    account = make_account(org.west_rep, name="Inline Co", industry="Retail")
    login(org.west_rep)
    html = client.get("/accounts/").content.decode()
    url = f"/cells/account/{account.pk}/industry/"
    assert f'hx-get="{url}"' in html
    assert f'id="version-account-{account.pk}" name="version" value="{account.version}"' in html
    form = client.get(url, {"version": account.version}, **HX).content.decode()
    assert 'name="value" value="Retail"' in form and 'hx-post=' in form
    saved = client.post(url, {"value": "Pharma", "version": account.version}, **HX)
    assert saved.status_code == 200
    body = saved.content.decode()
    assert "Pharma" in body and 'hx-swap-oob="true"' in body
    account.refresh_from_db()
    assert account.industry == "Pharma" and account.version == 2
    assert AuditEntry.objects.filter(record_type="account", record_id=account.pk,
                                     field="industry", changed_by=org.west_rep).exists()
    assert f'value="{account.version}"' in body


def test_a_stale_edit_is_409_with_the_current_value_and_writes_nothing(org, client, login):
    deal = make_opportunity(org.west_rep, amount=Decimal("1000.00"))
    login(org.west_rep)
    url = f"/cells/opportunity/{deal.pk}/amount/"
    assert client.post(url, {"value": "2000", "version": deal.version}, **HX).status_code == 200
    stale = client.post(url, {"value": "3000", "version": deal.version}, **HX)
    assert stale.status_code == 409
    body = stale.content.decode()
    assert "Someone else changed this record" in body and "USD 2,000.00" in body
    deal.refresh_from_db()
    assert deal.amount == Decimal("2000.00") and deal.version == 2


def test_a_bad_value_names_the_field_and_writes_nothing(org, client, login):
    deal = make_opportunity(org.west_rep)
    login(org.west_rep)
    for name, value, words in (("amount", "lots", "Amount: Enter an amount"),
                               ("close_date", "next week", "Close date: Enter a date"),
                               ("owner", str(org.east_rep.pk), "Owner: Choose one")):
        answer = client.post(f"/cells/opportunity/{deal.pk}/{name}/",
                             {"value": value, "version": deal.version}, **HX)
        assert answer.status_code == 422, name
        assert words in answer.content.decode() and 'aria-invalid="true"' in \
            answer.content.decode()
    before = (deal.amount, deal.close_date, deal.owner_id, deal.version)
    deal.refresh_from_db()
    assert (deal.amount, deal.close_date, deal.owner_id, deal.version) == before


def test_a_lost_stage_needs_a_reason_and_a_stage_moves_with_history(org, client, login):
    deal = make_opportunity(org.west_rep)
    lost = Stage.objects.get(pipeline=deal.pipeline, kind=StageKind.LOST)
    login(org.west_rep)
    url = f"/cells/opportunity/{deal.pk}/stage/"
    refused = client.post(url, {"value": lost.pk, "version": deal.version}, **HX)
    assert refused.status_code == 422 and "Lost reason: Say why" in refused.content.decode()
    moved = client.post(url, {"value": lost.pk, "version": deal.version,
                              "lost_reason": "Budget"}, **HX)
    assert moved.status_code == 200
    deal.refresh_from_db()
    assert deal.stage_id == lost.pk and deal.lost_reason == "Budget"
    assert deal.changes.filter(to_stage=lost).exists()


def test_who_may_not_change_the_row_gets_no_control_and_is_refused(org, client, login):
    mine = make_lead(org.west_rep, last_name="Mine")
    theirs = make_lead(org.east_rep, last_name="Theirs")
    login(org.executive)
    html = client.get("/leads/").content.decode()
    assert "/cells/lead/" not in html
    url = f"/cells/lead/{mine.pk}/status/"
    assert client.post(url, {"value": "working", "version": 1}, **HX).status_code == 403
    login(org.west_rep)
    hidden = client.post(f"/cells/lead/{theirs.pk}/status/", {"value": "working",
                                                              "version": 1}, **HX)
    assert hidden.status_code == 404
    assert client.get(f"/cells/lead/{mine.pk}/email/").status_code == 404
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == theirs.status == "new" and mine.version == theirs.version == 1


def test_chosen_columns_are_editable_too(org, client, login):
    account = make_account(org.west_rep, name="Chosen", tier="smb")
    login(org.west_manager)
    html = client.get("/accounts/", {"cols": ["name", "tier"]}).content.decode()
    assert f'hx-get="/cells/account/{account.pk}/tier/"' in html
    assert f'id="version-account-{account.pk}"' in html
