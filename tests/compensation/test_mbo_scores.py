"""MBO scores: the rep's manager (or an admin) scores each objective for an open period,
with its version; the statement pays target × score; bad input names its field."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from salesplan.compensation import mbo, services
from salesplan.compensation.models import CompStatement, MboScore
from salesplan.core.errors import NotFound

from .conftest import DEFINITION, won

WITH_MBO = {**DEFINITION, "mbos": [
    {"key": "enablement", "label": "Enablement", "target": "1000", "max_score": "1.5"}]}


@pytest.fixture
def mbo_plan(org, comp):
    plan = services.create_plan(by=org.admin, data={
        "name": "West rep plan", "person": org.west_rep, "starts": date(2026, 1, 1),
        "ends": date(2026, 12, 31), "effective_from": date(2026, 1, 1), "currency": "USD",
        "definition": WITH_MBO})
    return services.activate_plan(plan, by=org.admin, expected_version=plan.version)


def _statement(org, comp):
    return CompStatement.objects.get(rep=org.west_rep, period=comp.january)


def _mbo_line(statement):
    return statement.lines.get(kind="mbo")


def test_the_manager_scores_and_the_statement_pays_target_times_score(org, comp, mbo_plan,
                                                                       client):
    won(org.west_rep, "10000", date(2026, 1, 5))
    client.force_login(org.west_manager)
    response = client.post("/api/v1/comp/mbo-scores", {
        "rep_id": org.west_rep.pk, "period_id": comp.january.pk, "component": "enablement",
        "score_pct": "80", "note": "Certified"}, content_type="application/json")
    assert response.status_code == 201
    score = response.json()
    # 1,000 × 80 % = 800; 10,000 × 2 % = 200
    line = _mbo_line(_statement(org, comp))
    assert line.amount == 800 and line.rule == "score 80% × target 1000.00"
    assert _statement(org, comp).earned == 1000

    # above 100 %, up to the objective's maximum of 150 %
    changed = client.patch(f"/api/v1/comp/mbo-scores/{score['id']}",
                           {"score_pct": "120", "version": score["version"]},
                           content_type="application/json")
    assert changed.status_code == 200 and changed.json()["version"] == score["version"] + 1
    assert _mbo_line(_statement(org, comp)).amount == 1200
    stale = client.patch(f"/api/v1/comp/mbo-scores/{score['id']}",
                         {"score_pct": "50", "version": score["version"]},
                         content_type="application/json")
    assert stale.status_code == 409
    missing = client.patch(f"/api/v1/comp/mbo-scores/{score['id']}", {"score_pct": "50"},
                           content_type="application/json")
    assert missing.status_code == 428
    assert MboScore.objects.get().score_pct == 120


def test_bad_scores_name_their_field_and_write_nothing(org, comp, mbo_plan, client):
    client.force_login(org.west_manager)

    def post(**changes):
        body = {"rep_id": org.west_rep.pk, "period_id": comp.january.pk,
                "component": "enablement", "score_pct": "50", **changes}
        return client.post("/api/v1/comp/mbo-scores", body, content_type="application/json")

    over = post(score_pct="150.01")
    assert over.status_code == 422 and "score_pct" in over.json()["errors"]
    unknown = post(component="golf")
    assert unknown.status_code == 422 and "enablement" in unknown.json()["errors"]["component"][0]
    without_mbo = post(rep_id=org.west_rep2.pk)  # the role's plan has no MBO
    assert without_mbo.status_code == 422 and "none" in without_mbo.json()["errors"]["component"][0]
    services.close_period(comp.january, by=org.admin, expected_version=comp.january.version)
    closed = post()
    assert closed.status_code == 422 and "period_id" in closed.json()["errors"]
    assert not MboScore.objects.exists()


def test_who_may_score_and_who_reads(org, comp, mbo_plan, client):
    def score(by):
        return mbo.score_mbo(by=by, rep=org.west_rep, period=comp.january,
                             component="enablement", score_pct="90")

    with pytest.raises(PermissionDenied):
        score(org.west_rep)  # nobody scores themselves
    with pytest.raises(NotFound):
        score(org.east_manager)  # not their person
    with pytest.raises(PermissionDenied):
        score(org.executive)
    made = score(org.admin)
    with pytest.raises(ValidationError) as twice:
        score(org.west_manager)
    assert "component" in twice.value.message_dict

    client.force_login(org.west_rep)
    assert [s["id"] for s in client.get("/api/v1/comp/mbo-scores").json()] == [made.pk]
    client.force_login(org.west_rep2)
    assert client.get("/api/v1/comp/mbo-scores").json() == []
    client.force_login(org.east_manager)
    assert client.get("/api/v1/comp/mbo-scores").json() == []


def test_the_scoring_page(org, comp, mbo_plan, client):
    client.force_login(org.west_manager)
    page = client.get(f"/comp/mbo/?period={comp.january.pk}").content.decode()
    assert f'data-mbo="{org.west_rep.pk}:enablement"' in page
    client.post(f"/comp/mbo/?period={comp.january.pk}", {
        "rep_id": org.west_rep.pk, "component": "enablement", "score_pct": "75"})
    saved = MboScore.objects.get()
    assert saved.score_pct == 75 and saved.scored_by == org.west_manager
    client.post(f"/comp/mbo/?period={comp.january.pk}", {
        "score_id": saved.pk, "version": saved.version, "score_pct": "101"})
    saved.refresh_from_db()
    assert saved.score_pct == 101
    client.force_login(org.west_rep)
    assert client.get("/comp/mbo/").status_code == 403
