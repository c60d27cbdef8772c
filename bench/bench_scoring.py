"""Lead scoring: training and scoring time over a synthetic lead history, and the
predictive model's held-out accuracy. One JSON object per line.

    .venv/bin/python bench/bench_scoring.py [--leads 100000] [--naive 500]

Runs against a fresh SQLite file in a temporary folder (migrated here). The history is
synthetic: a lead's chance to convert follows a known logistic model of industry, size,
seniority, e-mail kind and source, so the held-out AUC can be compared with the AUC the
true probabilities reach (the best any model could do). 30% of the leads are converted,
30% disqualified, the rest open; a third of the leads carry one to three activities.

Figures: train (read history, fit, measure held-out), score all leads (rules and model,
written to the database in batches), the same scoring done lead by lead through
`rescore_lead` on a sample (the naive baseline, extrapolated), and the held-out AUC, Brier
score and log loss (Brier compared with always predicting the base rate).
"""

import argparse
import json
import math
import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import bench_db

INDUSTRIES = {"Healthcare": 0.9, "Software": 0.6, "Manufacturing": 0.1, "Retail": -0.5,
              "Energy": 0.0, "Education": -0.3, "Finance": 0.4, "Logistics": -0.1}
TITLES = {"VP Operations": 0.6, "Director of IT": 0.4, "IT Manager": 0.1, "Analyst": -0.4,
          "Owner": 0.5, "Engineer": -0.2}
SOURCES = {"web": 0.0, "referral": 0.8, "event": 0.3, "outbound": -0.4, "partner": 0.5,
           "advertising": -0.3, "other": -0.2}


UNUSABLE = "!"  # Django's mark for "no password": nobody can log in as these users


def setup_django(db_path: Path) -> None:
    bench_db.point_at(db_path)
    os.environ["DJANGO_SETTINGS_MODULE"] = "salesplan.config.settings"
    os.environ.setdefault("SALESPLAN_VAR_DIR", str(db_path.parent))
    os.environ.pop("SALESPLAN_TASK_BROKER", None)
    os.environ["SALESPLAN_DEBUG"] = "0"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def emit(metric: str, value, unit: str, baseline=None, **extra) -> None:
    row = {"metric": metric, "value": value, "unit": unit}
    if baseline is not None:
        row["baseline"] = baseline
        row["ratio"] = round(value / baseline, 4) if baseline else None
    print(json.dumps({**row, **extra}), flush=True)


def build_history(count: int, rng: random.Random) -> list[float]:
    """Insert `count` leads (and activities); returns the true conversion probability of
    each closed lead in id order."""
    from django.utils import timezone

    from salesplan.activities.models import Activity
    from salesplan.customers.models import Lead
    from salesplan.org.models import Role, Team, User

    team = Team.objects.create(name="Bench")
    # Unusable passwords: hashing twenty real ones would dominate a small run.
    reps = User.objects.bulk_create(
        User(username=f"rep{i}", email=f"rep{i}@example.com", password=UNUSABLE,
             role=Role.REP, team=team) for i in range(20))
    now = timezone.now()
    truth: list[float] = []
    leads: list[Lead] = []
    for i in range(count):
        industry, title = rng.choice(list(INDUSTRIES)), rng.choice(list(TITLES))
        source = rng.choice(list(SOURCES))
        employees = int(5 * (5000 / 5) ** rng.random())
        free_mail = rng.random() < 0.2
        z = (-0.6 + INDUSTRIES[industry] + TITLES[title] + SOURCES[source]
             + 0.35 * (math.log1p(employees) - 4.5) - (0.7 if free_mail else 0.0))
        p = 1 / (1 + math.exp(-z))
        roll = rng.random()
        if roll < 0.6:
            status = "converted" if rng.random() < p else "unqualified"
            truth.append(p)
        else:
            status = rng.choice(["new", "working", "nurturing", "qualified"])
        domain = "gmail.com" if free_mail else f"company{i % 5000}.example.com"
        leads.append(Lead(
            first_name="Lee", last_name=f"Lead{i}", name_key=f"lead{i} lee", title=title,
            email=f"lee{i}@{domain}", company=f"Company {i % 5000}", industry=industry,
            employees=employees, state=rng.choice(["CA", "NY", "TX", "WA", "IL"]),
            country="US", source=source, status=status, owner=rng.choice(reps)))
    Lead.objects.bulk_create(leads, batch_size=5000)
    ids = list(Lead.objects.order_by("pk").values_list("pk", "owner_id"))
    activities = []
    for pk, owner in ids:
        if rng.random() < 1 / 3:
            for _ in range(rng.randint(1, 3)):
                activities.append(Activity(
                    kind=rng.choice(["call", "meeting", "email"]), subject="Touch",
                    due_at=now - timedelta(days=rng.randint(0, 90)), owner_id=owner,
                    lead_id=pk))
    Activity.objects.bulk_create(activities, batch_size=5000)
    return truth


def add_rules(admin) -> int:
    from salesplan.scoring import services

    rules = [
        ("fit", "industry", "in", "Healthcare, Software, Finance", 20),
        ("fit", "employees", "between", "100-5000", 15),
        ("fit", "seniority", "in", "executive, director", 15),
        ("fit", "email_kind", "equals", "free", -10),
        ("fit", "source", "in", "referral, partner", 10),
        ("engagement", "meetings", "at_least", "1", 15),
        ("engagement", "activities_30d", "at_least", "2", 10),
    ]
    for kind, field, operator, value, points in rules:
        services.create_rule(by=admin, data={"kind": kind, "field": field,
                                             "operator": operator, "value": value,
                                             "points": points})
    return len(rules)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--naive", type=int, default=500,
                        help="Leads scored one by one for the naive baseline.")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(Path(tmp) / "bench.sqlite3")
        from salesplan.customers.models import Lead
        from salesplan.engines.lead_scoring import evaluate
        from salesplan.org.models import Role, User
        from salesplan.scoring import services

        started = time.perf_counter()
        truth = build_history(args.leads, rng)
        admin = User.objects.create(username="bench", email="bench@example.com",
                                    password=UNUSABLE, role=Role.ADMIN)
        rules = add_rules(admin)
        emit("scoring_build_history_seconds", round(time.perf_counter() - started, 1), "s",
             leads=args.leads, closed_leads=len(truth))

        started, cpu = time.perf_counter(), time.process_time()
        model = services.train_model(by=admin, min_per_class=20, test_fraction=0.25)
        train_seconds = time.perf_counter() - started
        assert model.status == "trained", model.reason
        emit("scoring_train_seconds", round(train_seconds, 2), "s",
             cpu_seconds=round(time.process_time() - cpu, 2), leads=args.leads,
             closed_leads=model.counts["rows"], train_rows=model.counts["train_rows"],
             test_rows=model.counts["test_rows"], features=len(model.parameters["features"]))

        started, cpu = time.perf_counter(), time.process_time()
        result = services.rescore_all()
        score_seconds = time.perf_counter() - started
        per_second = result["leads"] / score_seconds

        sample = list(Lead.objects.order_by("?").values_list("pk", flat=True)[:args.naive])
        naive_started = time.perf_counter()
        for lead in Lead.objects.filter(pk__in=sample):
            services.rescore_lead(lead)
        naive_per_second = len(sample) / (time.perf_counter() - naive_started)
        emit("scoring_score_all_seconds", round(score_seconds, 2), "s",
             baseline=round(result["leads"] / naive_per_second, 2),
             cpu_seconds=round(time.process_time() - cpu, 2), leads=result["leads"],
             rules=rules, baseline_is=f"rescore_lead one by one ({len(sample)} leads, "
                                    "extrapolated)")
        emit("scoring_leads_per_second", round(per_second), "leads/s",
             baseline=round(naive_per_second), leads=result["leads"])

        metrics = model.metrics
        base = metrics["base_rate"]
        oracle = evaluate([1 if s == "converted" else 0 for s in Lead.objects.filter(
            status__in=["converted", "unqualified"]).order_by("pk").values_list(
                "status", flat=True)], truth)
        emit("scoring_heldout_auc", round(metrics["auc"], 4), "AUC",
             baseline=round(oracle["auc"], 4), test_rows=metrics["rows"],
             baseline_is="AUC of the true probabilities over all closed leads")
        emit("scoring_heldout_brier", round(metrics["brier"], 4), "Brier",
             baseline=round(base * (1 - base), 4),
             baseline_is="always predicting the held-out base rate")
        emit("scoring_heldout_log_loss", round(metrics["log_loss"], 4), "nats",
             baseline=round(-(base * math.log(base) + (1 - base) * math.log(1 - base)), 4),
             baseline_is="always predicting the held-out base rate")
        worst = max(abs(r["predicted"] - r["observed"]) for r in model.calibration)
        emit("scoring_heldout_calibration_max_gap", round(100 * worst, 2), "points",
             deciles=[[round(100 * r["predicted"], 1), round(100 * r["observed"], 1)]
                      for r in model.calibration])
        emit("load_average_1m", os.getloadavg()[0], "load")
    return 0


if __name__ == "__main__":
    sys.exit(main())
