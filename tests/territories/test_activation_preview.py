"""Activating an alignment (or an optimisation's draft) is previewed first — accounts
moved per territory and per rep, a warning when many move — and then done by a job that
refuses a stale preview."""

import re

import pytest

from salesplan.core.errors import PreviewChanged
from salesplan.core.models import BackgroundJob
from salesplan.customers.models import Account
from salesplan.territories import activation, services
from salesplan.territories.assignment import run_full_assignment
from salesplan.territories.models import AccountTerritory, Alignment, Realignment

from ..factories import make_account
from .conftest import grant_map


@pytest.fixture
def draft(org, active_map):
    """A copy of the active map where East also claims ZIP 946…: Oakland Co, the west
    rep's account, moves from West to East (worked by the east rep)."""
    make_account(org.west_rep, name="Oakland Co", postal_code="94607")
    run_full_assignment(active_map.alignment)
    draft = services.create_alignment(by=org.admin, name="FY28", copy_from=active_map.alignment)
    east = draft.territories.get(name="East")
    services.update_territory(east, by=org.admin, data={"priority": 1})
    services.create_rule(east, by=org.admin, conditions=[
        {"field": "postal_code", "op": "prefix", "values": ["946"]}])
    run_full_assignment(draft)
    draft.refresh_from_db()
    return draft


def _stored() -> tuple:
    return (list(Alignment.objects.values().order_by("pk")),
            list(Account.objects.values_list("pk", "owner_id", "version").order_by("pk")),
            AccountTerritory.objects.count(), Realignment.objects.count(),
            BackgroundJob.objects.count())


def test_the_preview_shows_moves_per_territory_and_rep_and_writes_nothing(org, draft):
    before = _stored()
    preview = activation.preview_activation(draft, by=org.admin, ownership="move")
    assert _stored() == before
    assert (preview.moved_accounts, preview.total_accounts) == (1, 3)
    territories = {t["territory"]: t for t in preview.territories}
    assert (territories["West"]["accounts_before"], territories["West"]["accounts_after"],
            territories["West"]["accounts_change"]) == (2, 1, -1)
    assert territories["East"]["accounts_change"] == 1
    assert {(r["rep_id"], r["gains"], r["loses"]) for r in preview.reps} == {
        (org.east_rep.pk, 1, 0), (org.west_rep.pk, 0, 1)}
    assert any("1 of 3 accounts (33%) change territory" in w for w in preview.warnings)
    stay = activation.preview_activation(draft, by=org.admin, ownership="stay")
    assert stay.reps == [] and stay.fingerprint != preview.fingerprint


def test_confirming_runs_a_job_that_activates_as_previewed(
        org, draft, active_map, django_capture_on_commit_callbacks):
    preview = activation.preview_activation(draft, by=org.admin, ownership="move")
    with django_capture_on_commit_callbacks(execute=True):
        job = activation.confirm_activation(draft, by=org.admin, ownership="move",
                                            version=draft.version,
                                            fingerprint=preview.fingerprint)
    job.refresh_from_db()
    assert job.status == "succeeded", job.message
    assert job.result["accounts_moved"] == 1 and job.percent == 100
    draft.refresh_from_db()
    assert draft.status == Alignment.Status.ACTIVE
    assert Account.objects.get(name="Oakland Co").owner == org.east_rep


def test_a_stale_activation_preview_is_refused(org, draft, active_map):
    preview = activation.preview_activation(draft, by=org.admin, ownership="move")
    services.add_member(draft.territories.get(name="East"), by=org.admin, user=org.west_rep2,
                        role="overlay")
    before = _stored()
    with pytest.raises(PreviewChanged, match="nothing was activated"):
        activation.confirm_activation(draft, by=org.admin, ownership="move",
                                      version=Alignment.objects.get(pk=draft.pk).version,
                                      fingerprint=preview.fingerprint)
    assert _stored() == before


def test_preview_and_apply_through_the_api_and_the_pages(
        org, draft, api_as, client, django_capture_on_commit_callbacks):
    api = api_as(org.admin)
    answer = api.post(f"/territories/alignments/{draft.pk}/activate/preview",
                      {"ownership": "move"})
    assert answer.status_code == 200, answer.content
    assert answer.data["moved_accounts"] == 1 and answer.data["share"] == "0.333"
    assert answer.data["moves"][0]["from_territory"] == "West"
    assert api_as(org.west_rep).post(f"/territories/alignments/{draft.pk}/activate/preview",
                                     {"ownership": "move"}).status_code == 403
    stale = api.post(f"/territories/alignments/{draft.pk}/activate/apply", {
        "ownership": "move", "version": draft.version, "fingerprint": "old.preview"})
    assert stale.status_code == 409

    grant_map(org.vp)
    client.force_login(org.vp)
    page = client.get(f"/territories/alignments/{draft.pk}/activate/preview/",
                      {"ownership": "move"})
    assert page.status_code == 200 and b"Activate as previewed" in page.content
    fingerprint = re.search(r'name="fingerprint" value="([^"]+)"', page.content.decode())[1]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/territories/alignments/{draft.pk}/activate/", {
            "ownership": "move", "version": draft.version, "fingerprint": fingerprint})
    job = BackgroundJob.objects.get(kind="territory_activation")
    assert response.status_code == 302 and response.url == f"/jobs/{job.pk}/"
    assert Alignment.objects.get(pk=draft.pk).status == Alignment.Status.ACTIVE
