"""Quotes: pricing and approval evaluation of a 500-line quote, and the PDF proposal.

Builds a fresh SQLite file database (migrated here) with a catalogue of --products (600)
products in three families through the pricing services: a standard USD book listing
them all, graduated tiers on a third, all-units tiers on a sixth, contracted prices for
the quoting account on a quarter, floor prices on a tenth, a state tax rate, and the
default approval matrix. Prints one JSON line per metric:

    .venv/bin/python bench/bench_proposals.py [--lines 500] [--pdf-lines 50] [--runs 20]

- price_and_approve.p50 / .p95: `price_lines` for --lines random lines (each with a random
  extra discount) plus the matrix's evaluation of the result: target ≤ 50 ms.
- approvals.p50: the matrix evaluation alone, and against a baseline that re-reads the
  rules from the database for every line (the naive way).
- store_quote.p50: the whole draft edit a rep makes: price, replace the stored lines,
  totals (database writes included) — for information.
- pdf.p50 / .p95: rendering a --pdf-lines (50) line proposal to PDF: target ≤ 1 s.
"""

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import bench_db

PRICE_TARGET_MS = 50
PDF_TARGET_MS = 1000


def emit(metric: str, value, unit: str, **extra) -> None:
    # The load average says how much the machine was shared while measuring.
    extra["load_average"] = round(os.getloadavg()[0], 1)
    print(json.dumps({"metric": metric, "value": value, "unit": unit, **extra}), flush=True)


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
    call_command("createcachetable", verbosity=0)


def build(products: int, rng: random.Random):
    """People, the catalogue and one open deal, through the services."""
    from salesplan.customers.models import Account
    from salesplan.org.models import Role, Team, User
    from salesplan.pipeline import services as pipeline
    from salesplan.pricing import services as pricing

    team = Team.objects.create(name="Bench team")
    admin = User.objects.create_user("bench-admin", role=Role.ADMIN, team=team)
    manager = User.objects.create_user("bench-manager", role=Role.MANAGER, team=team)
    team.manager = manager
    team.save()
    rep = User.objects.create_user("bench-rep", role=Role.REP, team=team, first_name="Robin",
                                   last_name="Rep")
    families = [pricing.create_family(by=admin, name=name, min_margin_pct=Decimal(margin))
                for name, margin in (("Hardware", 20), ("Software", 50), ("Services", 30))]
    book = pricing.create_price_book(by=admin, name="Standard USD", currency="USD",
                                     is_standard=True)
    account = Account.objects.create(name="Bench Corp", owner=rep, country="US", state="CA")
    pricing.create_tax_rate(by=admin, name="California", country="US", state="CA",
                            rate=Decimal("7.25"))
    ids = []
    for i in range(products):
        price = Decimal(rng.randrange(10, 5000))
        product = pricing.create_product(by=admin, sku=f"P-{i:05d}", name=f"Product {i}",
                                         family=families[i % 3],
                                         cost=(price * Decimal("0.45")).quantize(Decimal("0.01")))
        floor = (price * Decimal("0.7")).quantize(Decimal("0.01")) if i % 10 == 0 else None
        pricing.set_entry(book, product, by=admin, list_price=price, floor_price=floor)
        if i % 3 == 0:
            pricing.create_rule(by=admin, name=f"Tiers {i}", kind="graduated", product=product,
                                currency="USD", tiers=[(Decimal(1), price),
                                                       (Decimal(10), price * Decimal("0.9")),
                                                       (Decimal(50), price * Decimal("0.8"))])
        elif i % 6 == 1:
            pricing.create_rule(by=admin, name=f"All units {i}", kind="all_units",
                                product=product, currency="USD",
                                tiers=[(Decimal(1), price), (Decimal(20), price * Decimal("0.85"))])
        if i % 4 == 2:
            pricing.create_rule(by=admin, name=f"Contract {i}", kind="contract", product=product,
                                account=account, currency="USD",
                                unit_price=(price * Decimal("0.88")).quantize(Decimal("0.01")))
        ids.append(product.pk)
    opportunity = pipeline.create_opportunity(by=rep, data={
        "name": "Bench deal", "account": account, "amount": Decimal(0)})
    return rep, account, opportunity, ids


CPU: dict[int, float] = {}


def timed(fn, runs: int, warmup: int = 2) -> list[float]:
    """Wall-clock milliseconds per run; the median CPU milliseconds go to CPU[id(samples)]
    (on a shared machine the CPU time says what the work costs without the waiting)."""
    for _ in range(warmup):
        fn()
    samples, cpu = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    CPU[id(samples)] = round(statistics.median(cpu), 1)
    return samples


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=500)
    parser.add_argument("--pdf-lines", type=int, default=50)
    parser.add_argument("--products", type=int, default=600)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(Path(tmp) / "bench.sqlite3")
        run(args)


def run(args) -> None:
    from django.utils import timezone

    from salesplan.pricing.services import price_lines
    from salesplan.pricing.types import LineRequest
    from salesplan.proposals import services
    from salesplan.proposals.approvals import active_rules, approvals_for_priced
    from salesplan.proposals.models import ApprovalRule
    from salesplan.proposals.pdf import render_pdf

    rng = random.Random(11)
    started = time.perf_counter()
    rep, account, opportunity, product_ids = build(args.products, rng)
    emit("setup.catalogue", round(time.perf_counter() - started, 1), "s",
         products=args.products)
    requests = [LineRequest(product_id=rng.choice(product_ids),
                            quantity=Decimal(rng.randint(1, 80)),
                            discount_pct=Decimal(rng.choice([0, 0, 0, 5, 8, 12, 25])))
                for _ in range(args.lines)]
    today = timezone.localdate()
    scale = {"lines": args.lines, "products": args.products, "runs": args.runs}

    def price_and_approve():
        priced = price_lines(account=account, currency="USD", on_date=today, lines=requests)
        return approvals_for_priced(priced.lines, requests, active_rules())

    samples = timed(price_and_approve, args.runs)
    needed = price_and_approve()
    emit("price_and_approve.p50", round(statistics.median(samples), 1), "ms",
         target=PRICE_TARGET_MS, cpu_ms=CPU[id(samples)], approvals=len(needed), **scale)
    emit("price_and_approve.p95", round(p95(samples), 1), "ms", target=PRICE_TARGET_MS,
         **scale)

    priced = price_lines(account=account, currency="USD", on_date=today, lines=requests)
    fast = timed(lambda: approvals_for_priced(priced.lines, requests, active_rules()),
                 args.runs)

    def naive():
        # Every line asks the database for the rules again, one approval row per hit.
        hits = []
        for line, request in zip(priced.lines, requests, strict=True):
            for rule in ApprovalRule.objects.filter(active=True):
                if rule.metric == "discount" and request.discount_pct > rule.threshold_pct:
                    hits.append((rule.step, rule.approver, line.sku))
                elif rule.metric == "floor" and (line.below_floor or line.below_min_margin):
                    hits.append((rule.step, rule.approver, line.sku))
        return hits

    slow = timed(naive, max(3, args.runs // 4), warmup=1)
    emit("approvals.p50", round(statistics.median(fast), 2), "ms",
         baseline=round(statistics.median(slow), 2),
         ratio=round(statistics.median(slow) / max(statistics.median(fast), 1e-6), 1),
         baseline_is="rules re-read per line", **scale)

    quote = services.create_quote(by=rep, opportunity=opportunity, title="Bench quote")
    version = services.current_version(quote)
    rows = [{"product_id": r.product_id, "quantity": r.quantity,
             "discount_pct": r.discount_pct} for r in requests]
    store = timed(lambda: services.price_version(version, rows, on_date=today),
                  max(3, args.runs // 4), warmup=1)
    emit("store_quote.p50", round(statistics.median(store), 1), "ms", cpu_ms=CPU[id(store)],
         **scale)

    services.price_version(version, rows[: args.pdf_lines], on_date=today)
    pdf_samples = timed(lambda: render_pdf(quote, version), max(3, args.runs // 4), warmup=1)
    size = len(render_pdf(quote, version))
    emit("pdf.p50", round(statistics.median(pdf_samples), 1), "ms", target=PDF_TARGET_MS,
         cpu_ms=CPU[id(pdf_samples)], lines=args.pdf_lines, bytes=size)
    emit("pdf.p95", round(p95(pdf_samples), 1), "ms", target=PDF_TARGET_MS,
         lines=args.pdf_lines)


if __name__ == "__main__":
    main()
