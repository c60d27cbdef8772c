"""The scoring API: marketing edits rules and trains; reps read scores of their own leads."""

from django.core.management import call_command
from django.urls import reverse

from salesplan.scoring import services
from salesplan.scoring.models import LeadScore, ScoringModel, ScoringRule

from ..api.conftest import assert_problem
from ..factories import make_lead
from .conftest import closed_history

RULE = {"kind": "fit", "field": "industry", "operator": "equals", "value": "Healthcare",
        "points": 30}


def test_marketing_edits_rules_reps_may_not(org, api_as):
    marketer = api_as(org.marketer)
    created = marketer.post("/scoring/rules", RULE)
    assert created.status_code == 201, created.data
    rid = created.data["id"]
    changed = marketer.patch(f"/scoring/rules/{rid}", {"points": 35, "version": 1}).data
    assert changed["points"] == 35 and changed["version"] == 2
    bad = marketer.post("/scoring/rules", {**RULE, "field": "employees",
                                           "operator": "between", "value": "10"})
    assert "LOW-HIGH" in assert_problem(bad, 422, "value")["errors"]["value"][0]
    rep = api_as(org.west_rep)
    assert_problem(rep.post("/scoring/rules", RULE), 403)
    assert_problem(rep.patch(f"/scoring/rules/{rid}", {"points": 1, "version": 2}), 403)
    assert_problem(rep.delete(f"/scoring/rules/{rid}?version=2"), 403)
    assert ScoringRule.objects.get().points == 35
    assert [r["id"] for r in rep.get("/scoring/rules").data] == [rid]
    assert marketer.delete(f"/scoring/rules/{rid}?version=2").status_code == 204


def test_reps_see_scores_of_their_visible_leads_only(org, api_as):
    services.create_rule(by=org.admin, data=RULE)
    mine = make_lead(org.west_rep, industry="Healthcare")
    theirs = make_lead(org.east_rep, industry="Healthcare")
    services.rescore_all()
    rep = api_as(org.west_rep)
    listed = rep.get("/scoring/leads").data["items"]
    assert [(s["lead_id"], s["total"], s["grade"]) for s in listed] == [(mine.pk, 30, "C")]
    assert rep.get(f"/scoring/leads/{mine.pk}").data["reasons"] == [
        {"kind": "fit", "rule": "industry is healthcare", "points": 30}]
    assert_problem(rep.get(f"/scoring/leads/{theirs.pk}"), 404)
    assert_problem(rep.post(f"/scoring/leads/{theirs.pk}/rescore"), 404)
    manager = api_as(org.vp)
    assert {s["lead_id"] for s in manager.get("/scoring/leads").data["items"]} == {
        mine.pk, theirs.pk}
    assert_problem(rep.post("/scoring/rescore"), 403)


def test_training_job_refuses_thin_history_then_trains(org, api_as,
                                                       django_capture_on_commit_callbacks):
    marketer = api_as(org.marketer)
    closed_history([org.west_rep], converted=6, disqualified=30)
    with django_capture_on_commit_callbacks(execute=True):
        started = marketer.post("/scoring/models/train", {"min_per_class": 10})
    assert started.status_code == 202
    assert started["Location"] == f"/api/v1/jobs/{started.data['id']}"
    job = marketer.get(f"/jobs/{started.data['id']}").data
    assert marketer.get(f"/scoring/jobs/{started.data['id']}").data == job
    assert job["status"] == "succeeded" and job["result"]["status"] == "refused"
    assert "only 6 converted leads" in job["message"]
    current = marketer.get("/scoring/models/current")
    assert "only 6 converted leads" in assert_problem(current, 404)["detail"]
    closed_history([org.west_rep, org.east_rep], converted=30, disqualified=10, seed=9)
    with django_capture_on_commit_callbacks(execute=True):
        started = marketer.post("/scoring/models/train", {"min_per_class": 10,
                                                          "test_fraction": 0.2})
    job = marketer.get(f"/scoring/jobs/{started.data['id']}").data
    assert job["result"]["status"] == "trained" and job["result"]["leads"] == 76
    model = marketer.get("/scoring/models/current").data
    assert model["version"] == 2 and model["counts"]["test_rows"] == 16
    assert set(model["metrics"]) >= {"auc", "brier", "log_loss"}
    assert len(model["calibration"]) == 10 and model["weights"]
    assert LeadScore.objects.filter(probability__isnull=False).count() == 76
    assert_problem(api_as(org.west_rep).post("/scoring/models/train", {}), 403)
    assert_problem(marketer.post("/scoring/models/train", {"test_fraction": 0.9}), 422,
                   "test_fraction")
    # Someone else's job is not theirs to read.
    assert_problem(api_as(org.west_rep).get(f"/scoring/jobs/{started.data['id']}"), 404)


def test_pages_rules_model_list_and_lead_panel(org, as_user):
    closed_history([org.west_rep, org.east_rep], converted=25, disqualified=25)
    services.train_model(by=org.marketer, min_per_class=20)
    services.create_rule(by=org.marketer, data=RULE)
    mine = make_lead(org.west_rep, industry="Healthcare", company="Mine Inc")
    theirs = make_lead(org.east_rep, company="Theirs Inc")
    services.rescore_all()
    client = as_user(org.west_rep)
    panel = client.get(reverse("web:scoring:lead_panel", args=[mine.pk])).content.decode()
    assert panel.lstrip().startswith("<section") and 'class="card lead-score"' in panel
    assert "industry is healthcare: +30 fit" in panel and "predicted chance" in panel
    assert client.get(reverse("web:scoring:lead_panel", args=[theirs.pk])).status_code == 404
    listed = client.get(reverse("web:scoring:leads")).content.decode()
    assert "Mine Inc" in listed and "Theirs Inc" not in listed
    model = client.get(reverse("web:scoring:model")).content.decode()
    assert "AUC" in model and 'data-chart="' in model and "Train and rescore" not in model
    rules = client.get(reverse("web:scoring:rules")).content.decode()
    assert "Add a rule" not in rules
    assert client.post(reverse("web:scoring:rules"), {**RULE}).status_code == 403
    assert ScoringRule.objects.count() == 1
    as_user(org.marketer)
    bad = client.post(reverse("web:scoring:rules"), {**RULE, "field": "employees",
                                                     "operator": "at_least", "value": "many"})
    assert "is not a number" in bad.content.decode() and ScoringRule.objects.count() == 1
    assert "Train and rescore" in client.get(reverse("web:scoring:model")).content.decode()


def test_cli_trains_refuses_and_scores(org, capsys):
    closed_history([org.west_rep], converted=3, disqualified=3)
    try:
        call_command("scoring", "train")
    except Exception as exc:  # CommandError
        assert "only 3 converted leads and 3 disqualified leads" in str(exc)
    else:
        raise AssertionError("training on six leads must be refused")
    closed_history([org.west_rep], converted=30, disqualified=30, seed=2)
    call_command("scoring", "train", "--min-per-class", "20")
    out = capsys.readouterr().out
    assert "held-out AUC" in out and "Scored 66 leads" in out
    assert ScoringModel.objects.filter(status="trained").count() == 1
    call_command("scoring", "lead", str(make_lead(org.west_rep).pk))
    assert "Predicted chance to convert" in capsys.readouterr().out


def _queries(call) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert call().status_code == 200
    return len(captured)


def test_score_list_queries_do_not_grow_with_rows(org, api_as):
    services.create_rule(by=org.admin, data=RULE)
    rep = api_as(org.west_rep)
    make_lead(org.west_rep, industry="Healthcare")
    services.rescore_all()
    rep.get("/scoring/leads")  # the token's first use is recorded once
    few = _queries(lambda: rep.get("/scoring/leads"))
    for _ in range(5):
        make_lead(org.west_rep)
    services.rescore_all()
    assert _queries(lambda: rep.get("/scoring/leads")) == few


def test_score_list_pages_by_total_and_by_probability(org, api_as):
    closed_history([org.east_rep], converted=25, disqualified=25)
    services.train_model(by=org.marketer, min_per_class=20)
    services.create_rule(by=org.admin, data={**RULE, "points": 10})
    services.create_rule(by=org.admin, data={"kind": "fit", "field": "employees",
                                             "operator": "at_least", "value": "100",
                                             "points": 5})
    leads = [make_lead(org.west_rep, industry=i, employees=e) for i, e in
             (("Healthcare", 500), ("Healthcare", 10), ("Retail", 500), ("Retail", 10))]
    services.rescore_all()
    rep = api_as(org.west_rep)
    first = rep.get("/scoring/leads", limit=3).data
    second = rep.get("/scoring/leads", limit=3, cursor=first["next_cursor"]).data
    totals = [s["total"] for s in first["items"] + second["items"]]
    assert totals == [15, 10, 5, 0] and second["next_cursor"] is None
    assert [s["lead_id"] for s in first["items"] + second["items"]] == [lead.pk for lead in leads]
    seen, cursor = [], None
    while True:
        page = rep.get("/scoring/leads", sort="probability", limit=1,
                       **({"cursor": cursor} if cursor else {})).data
        seen += [s["probability"] for s in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 4 and seen == sorted(seen, reverse=True)


def test_a_model_no_better_than_chance_is_flagged(org, as_user):
    from django.utils import timezone

    ScoringModel.objects.create(
        version=1, status="trained", trained_at=timezone.now(), settings={"split": "time"},
        counts={"rows": 80, "converted": 37, "disqualified": 43, "train_rows": 60,
                "test_rows": 20},
        metrics={"auc": 0.37, "brier": 0.3, "log_loss": 0.8, "base_rate": 0.45, "rows": 20},
        calibration=[], parameters={"intercept": 0.1, "features": [], "coefficients": [],
                                    "vocabulary": {}, "numeric": {}})
    lead = make_lead(org.west_rep)
    services.rescore_lead(lead)
    client = as_user(org.west_rep)
    page = client.get(reverse("web:scoring:model")).content.decode()
    assert "little better than a coin toss (AUC 0.37, measured on only 20 leads)" in page
    panel = client.get(reverse("web:scoring:lead_panel", args=[lead.pk])).content.decode()
    assert "little better than chance (AUC 0.37)" in panel and "52%" in panel
