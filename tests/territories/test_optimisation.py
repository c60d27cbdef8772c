"""The territory optimiser end to end: a lopsided map becomes a balanced draft that the
what-if comparison shows, from the service, the API, the web page and the CLI."""

from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse

from salesplan.core.models import BackgroundJob
from salesplan.engines.alignment import WorkBudget
from salesplan.territories import services
from salesplan.territories.assignment import run_full_assignment
from salesplan.territories.models import (
    AccountTerritory,
    Alignment,
    BoundaryRule,
    NamedAccount,
    OptimisationRun,
)
from salesplan.territories.optimisation import (
    MAX_TIME_LIMIT,
    OptimisationRequest,
    start_optimisation,
)
from salesplan.territories.selectors import account_count_in, what_if

from ..factories import make_account
from .conftest import grant_map


@pytest.fixture(autouse=True)
def map_owner(org):
    """The West manager holds an admin's grant to optimise (and create) alignments."""
    grant_map(org.west_manager)

T = "/territories"
# The engine's work in steps, so a busy machine changes only how long a run takes: the
# maps are sixty accounts. The API, the page and the CLI take seconds only; they get the
# largest time limit, which these maps never come near, and the default budget decides.
BUDGET = WorkBudget(starts=20, patience=10, polish_solves=6, exact_nodes=20_000)
LONGEST = MAX_TIME_LIMIT


def lopsided_map(org, sizes=(40, 12, 8)):
    """An active alignment: North (ZIP 1…), Middle (2…), South (3…) holding 40, 12 and 8
    accounts spread along a line of latitude, so rebalancing moves the border accounts."""
    alignment = services.create_alignment(by=org.admin, name="Today")
    region = services.create_territory(alignment, by=org.admin, data={"name": "US"})
    children = []
    for digit, name in enumerate(("North", "Middle", "South"), start=1):
        child = services.create_territory(alignment, by=org.admin,
                                          data={"name": name, "parent": region.pk})
        services.create_rule(child, by=org.admin, conditions=[
            {"field": "postal_code", "op": "prefix", "values": [str(digit)]}])
        children.append(child)
    n = 0
    for digit, size in enumerate(sizes, start=1):
        for _ in range(size):
            n += 1
            make_account(org.west_rep, name=f"Co {n}", postal_code=f"{digit}{n:04d}",
                         potential=str(1000 + 10 * n),
                         latitude=f"{48 - n * 0.2:.4f}", longitude=f"{-100 + (n % 5) * 0.1:.4f}")
    run_full_assignment(alignment)
    services.activate_alignment(alignment, by=org.admin)
    alignment.refresh_from_db()
    return alignment, region, children


def optimised(org, alignment, region, captured, **kwargs) -> OptimisationRun:
    request = OptimisationRequest(parent_id=region.pk, budget=BUDGET, **kwargs)
    with captured(execute=True):
        run = start_optimisation(alignment, by=org.west_manager, request=request)
    run.refresh_from_db()
    return run


@pytest.fixture
def lopsided(org):
    return lopsided_map(org)


def test_lopsided_territories_become_a_balanced_draft(org, lopsided,
                                                      django_capture_on_commit_callbacks):
    alignment, region, children = lopsided
    before_rules = list(BoundaryRule.objects.filter(territory__alignment=alignment)
                        .values_list("territory_id", "conditions"))
    before = dict(AccountTerritory.objects.filter(alignment=alignment)
                  .values_list("account_id", "territory_id"))
    run = optimised(org, alignment, region, django_capture_on_commit_callbacks, tau=0.05)
    assert run.job.status == BackgroundJob.Status.SUCCEEDED, run.job.message
    draft = run.draft
    assert draft.status == Alignment.Status.DRAFT and draft.results_current
    # Every territory within ±5% of 20 accounts in the draft's own assignment.
    counts = sorted(AccountTerritory.objects.filter(
        alignment=draft, territory__parent__isnull=False).values_list("territory__name",
                                                                      flat=True))
    sizes = {name: counts.count(name) for name in ("North", "Middle", "South")}
    assert all(19 <= size <= 21 for size in sizes.values()), sizes
    assert sum(sizes.values()) == 60
    metrics = run.metrics
    assert metrics["balanced"] is True and metrics["contiguity_checked"] is False
    assert 0 <= metrics["gap"] <= 1 and metrics["moved_accounts"] >= 19
    north = next(t for t in metrics["territories"] if t["name"] == "North")
    assert north["measures"][0]["before"] == 40 and north["measures"][0]["target"] == 20
    # The source alignment is untouched: same rules, same results, still active.
    alignment.refresh_from_db()
    assert alignment.status == Alignment.Status.ACTIVE
    assert list(BoundaryRule.objects.filter(territory__alignment=alignment)
                .values_list("territory_id", "conditions")) == before_rules
    assert dict(AccountTerritory.objects.filter(alignment=alignment)
                .values_list("account_id", "territory_id")) == before
    assert not NamedAccount.objects.filter(territory__alignment=alignment).exists()
    # The what-if comparison of the draft lists the moves away from North.
    comparison = what_if(draft, alignment)
    assert comparison.moved_accounts == metrics["moved_accounts"]
    assert any(m["from"] == "North" for m in comparison.moves)


def test_zip_level_writes_postal_code_rules(org, lopsided, django_capture_on_commit_callbacks):
    alignment, region, _ = lopsided
    run = optimised(org, alignment, region, django_capture_on_commit_callbacks, unit="zip",
                    measures=["accounts", "potential"], tau=0.2)
    assert run.job.status == BackgroundJob.Status.SUCCEEDED, run.job.message
    rules = BoundaryRule.objects.filter(territory__alignment=run.draft,
                                        territory__parent__isnull=False)
    assert rules.count() == 3
    assert all(r.conditions[0]["op"] == "in" for r in rules)
    assert AccountTerritory.objects.filter(alignment=run.draft,
                                           territory__parent__isnull=False).count() == 60
    assert run.metrics["accounts_lost"] == run.metrics["accounts_captured"] == 0


def test_impossible_requests_are_refused_with_the_reason(org, django_capture_on_commit_callbacks):
    alignment, region, _ = lopsided_map(org, sizes=(1, 1, 0))
    with pytest.raises(ValidationError) as refused:
        start_optimisation(alignment, by=org.west_manager,
                           request=OptimisationRequest(parent_id=region.pk))
    assert "3 territories cannot be filled from only 2 accounts" in str(refused.value)
    assert not OptimisationRun.objects.exists()


def test_infeasible_lock_fails_the_job_with_the_engine_message(
        org, lopsided, django_capture_on_commit_callbacks):
    alignment, region, _ = lopsided
    north_ids = AccountTerritory.objects.filter(
        alignment=alignment, territory__name="North").values_list("account_id", flat=True)
    # Locking all 40 North accounts in place cannot leave North within ±5% of 20.
    run = optimised(org, alignment, region, django_capture_on_commit_callbacks,
                    locked=[str(a) for a in north_ids])
    assert run.job.status == BackgroundJob.Status.FAILED
    assert run.draft is None and "Cannot be met" in run.message
    assert run.job.message.startswith("Failed:")


def test_reps_may_not_optimise(org, lopsided, api_as):
    alignment, region, _ = lopsided
    with pytest.raises(PermissionDenied):
        start_optimisation(alignment, by=org.west_rep,
                           request=OptimisationRequest(parent_id=region.pk))
    response = api_as(org.west_rep).post(f"{T}/alignments/{alignment.pk}/optimise",
                                         {"parent_id": region.pk})
    assert response.status_code == 403


def test_api_starts_a_run_and_reads_its_result(org, lopsided, api_as,
                                               django_capture_on_commit_callbacks):
    alignment, region, _ = lopsided
    api = api_as(org.west_manager)
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(f"{T}/alignments/{alignment.pk}/optimise",
                           {"parent_id": region.pk, "measures": ["accounts"], "tau": 0.05,
                            "time_limit": LONGEST})
    assert started.status_code == 202, started.data
    result = api.get(f"{T}/optimisations/{started.data['id']}")
    assert result.status_code == 200
    assert result.data["job"]["status"] == "succeeded"
    assert result.data["metrics"]["balanced"] is True and result.data["draft_id"]
    bad = api.post(f"{T}/alignments/{alignment.pk}/optimise",
                   {"parent_id": region.pk, "tau": 2})
    assert bad.status_code == 422 and "tau" in bad.data["errors"]


def test_result_page_shows_balance_and_maps(org, lopsided, client,
                                            django_capture_on_commit_callbacks):
    alignment, region, _ = lopsided
    client.force_login(org.west_manager)
    form = client.get(reverse("web:territories:optimise", args=[alignment.pk]))
    assert form.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post(reverse("web:territories:optimise", args=[alignment.pk]), {
            "parent": region.pk, "unit": "account", "measures": ["accounts"], "tau": "5",
            "objective": "squared", "time_limit": str(int(LONGEST))})
    assert posted.status_code == 302
    page = client.get(posted["Location"])
    text = page.content.decode()
    assert "North" in text and "not checked" in text and "Compare with" in text
    assert text.count('class="territory-map"') == 2
    run = OptimisationRun.objects.get()
    assert f"/territories/alignments/{run.draft_id}/activate/preview/" in text
    moved = run.metrics["moved_accounts"]
    total = account_count_in(alignment, [t["source_id"] for t in run.metrics["territories"]])
    assert total and (f"{moved} of {total} accounts" in text) == (round(100 * moved / total)
                                                                   >= 20)
    client.force_login(org.west_rep)
    assert client.get(posted["Location"]).status_code == 403


def test_cli_optimises(org, lopsided, django_capture_on_commit_callbacks):
    alignment, region, _ = lopsided
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("territories", "optimise", "--alignment", str(alignment.pk), "--parent",
                     str(region.pk), "--measure", "accounts", "--tau", "0.05",
                     "--time-limit", str(LONGEST), stdout=out)
    run = OptimisationRun.objects.get()
    assert run.job.status == BackgroundJob.Status.SUCCEEDED
    assert f"run {run.pk}" in out.getvalue()


def test_result_page_follows_a_queued_run(org, lopsided, client):
    alignment, region, _ = lopsided
    # Without committing, the job has not started: the page polls for progress.
    run = start_optimisation(alignment, by=org.west_manager,
                             request=OptimisationRequest(parent_id=region.pk))
    client.force_login(org.west_manager)
    url = reverse("web:territories:optimisation", args=[run.pk])
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in fragment and "<html" not in fragment
    assert "<progress" in fragment


def test_contiguous_territories_over_neighbouring_units(org, lopsided,
                                                        django_capture_on_commit_callbacks):
    # Neighbours by triangulation: a unit's nearest other unit is always a neighbour,
    # and units at the same point become neighbours too.
    import numpy as np

    from salesplan.territories.optimisation import neighbouring_units

    points = np.array([[40.0, -100.0], [40.0, -100.0], [40.0, -99.0], [41.0, -100.0],
                       [45.0, -90.0]])
    pairs = {tuple(p) for p in neighbouring_units(points).tolist()}
    assert (0, 1) in pairs  # same point
    assert any(4 in pair for pair in pairs)  # the far unit still has a neighbour
    alignment, region, _ = lopsided
    run = optimised(org, alignment, region, django_capture_on_commit_callbacks, tau=0.1,
                    contiguous=True)
    assert run.job.status == BackgroundJob.Status.SUCCEEDED, run.job.message
    metrics = run.metrics
    assert metrics["contiguity_checked"] is True and metrics["balanced"] is True
    assert all(t["contiguous"] for t in metrics["territories"])


def test_a_refused_run_says_why_in_words_and_try_again_keeps_the_form(
        org, client, django_capture_on_commit_callbacks):
    # 61 accounts into three territories at ±1%: each would need 20.1 to 20.5 accounts.
    alignment, region, _ = lopsided_map(org, sizes=(41, 12, 8))
    run = optimised(org, alignment, region, django_capture_on_commit_callbacks, tau=0.01,
                    time_limit=45, name="Even split")
    assert run.job.status == BackgroundJob.Status.FAILED
    assert run.message.startswith("Cannot be met: Number of accounts comes in whole amounts")
    assert run.message.endswith("Allow a wider balance, e.g. ±3.3%.")
    assert "Allow a wider balance, e.g. ±3.3%" in run.message
    assert "measure 0" not in run.message and "e+" not in run.message
    assert run.metrics["fix"]["tau_pct"] == 3.3

    client.force_login(org.west_manager)
    page = client.get(reverse("web:territories:optimisation", args=[run.pk])).content.decode()
    retry = reverse("web:territories:optimise", args=[alignment.pk])
    assert f"{retry}?from_run={run.pk}&amp;tau=3.3" in page and "Try again with ±3.3%" in page

    form = client.get(retry, {"from_run": run.pk, "tau": "3.3"}).context["form"]
    assert form["tau"].value() == 3.3
    assert form["time_limit"].value() == 45 and form["name"].value() == "Even split"
    assert form["measures"].value() == ["accounts"]
    assert sorted(form["territories"].value()) == sorted(run.options["territory_ids"])
    unchanged = client.get(retry, {"from_run": run.pk}).context["form"]
    assert unchanged["tau"].value() == 1.0
