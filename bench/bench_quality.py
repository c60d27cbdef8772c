"""Quality-control benchmark: the duplicate scan and the quality-control lists.

    .venv/bin/python bench/bench_quality.py duplicates --contacts 1000000
    .venv/bin/python bench/bench_quality.py lists --db /tmp/bench-copy.sqlite3   # a copy!
    .venv/bin/python bench/bench_quality.py stored --db /tmp/bench-copy.sqlite3 --snapshot

`duplicates` generates synthetic contacts in memory (names drawn with a long-tailed
surname distribution, company e-mail addresses, phones, accounts) with planted
duplicates of four kinds (same e-mail with a typo in the name; same phone written
differently with the name in the other order; same account with a typo; a Gmail
address with dots), runs the matching engine and reports its time and the recall of the
planted pairs; the baseline is the same scoring without blocking on a sample (all pairs),
extrapolated to the full size.

`lists` times the first page of every quality-control list for the executive and for a
rep, against a naive ORM version (every open record loaded and tested in Python).

Prints one JSON object per line: {"metric", "value", "unit"} plus "baseline"/"ratio"
where a figure is compared. Not part of the test suite.
"""

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def emit(metric: str, value=None, unit: str = "", **extra) -> None:
    line: dict = {"metric": metric}
    if value is not None:
        line.update(value=round(value, 3) if isinstance(value, float) else value, unit=unit)
    line.update(extra)
    print(json.dumps(line), flush=True)


# --- synthetic contacts ----------------------------------------------------------------

SYLLABLES = ("an", "ber", "cal", "dor", "el", "fen", "gar", "hol", "ing", "jor", "kel", "lin",
             "mar", "nor", "ol", "pet", "quin", "ros", "sel", "tor", "ul", "ven", "wil", "yor",
             "zan", "bro", "cha", "dre", "ste", "tha")


def _typo(rng: random.Random, word: str) -> str:
    """One substitution, deletion or transposition after the first letter."""
    if len(word) < 4:
        return word + rng.choice("aeiou")
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return word[:i] + rng.choice("aeiouy") + word[i + 1:]
    if kind == 1:
        return word[:i] + word[i + 1:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def synthetic_contacts(n: int, seed: int, planted_share: float = 0.02):
    """Columns of n contacts, of which about planted_share × n are planted twins;
    returns (records columns, planted pairs as a set of (i, j))."""
    from salesplan.demo.names import FIRST_NAMES

    rng = random.Random(seed)
    surnames = sorted({"".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3, 3, 4))))
                       for _ in range(60_000)})
    weights = [1 / (rank + 10) for rank in range(len(surnames))]
    firsts = [f.lower() for f in FIRST_NAMES]
    accounts = max(1, n // 5)
    planted_target = int(n * planted_share)
    base = n - planted_target
    last_names = rng.choices(surnames, weights=weights, k=base)
    ids, names, emails, phones, groups = [], [], [], [], []
    for i in range(base):
        first, last = rng.choice(firsts), last_names[i]
        account = rng.randrange(accounts)
        ids.append(i + 1)
        names.append(f"{first.title()} {last.title()}")
        emails.append(f"{first}.{last}{i}@firm{account}.example.com")
        phones.append(f"+1 {rng.randrange(200, 999)} 555 {rng.randrange(10_000):04d}"
                      if rng.random() < 0.6 else "")
        groups.append(account)
    planted = set()
    for k in range(planted_target):
        src = rng.randrange(base)
        first, last = names[src].lower().split(" ", 1)
        kind = k % 4
        email, phone, group = "", "", rng.randrange(accounts)
        if kind == 0:  # same e-mail, typo in the surname
            name, email = f"{first} {_typo(rng, last)}", emails[src].upper()
        elif kind == 1 and phones[src]:  # same phone written differently, swapped order
            digits = "".join(c for c in phones[src] if c.isdigit())[-10:]
            name, phone = f"{last}, {first}", f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
            email = f"{first[0]}{last}@other{src}.example.net"
        elif kind == 2 or kind == 1:  # same account, typo in the first name
            name, group = f"{_typo(rng, first)} {last}", groups[src]
            email = f"{first}{src}@home.example.org"
        else:  # a Gmail address with dots and a tag, same name
            gmail = f"{first}{last}{src}@gmail.com"
            emails[src] = gmail
            name, email = f"{first} {last}", f"{first}.{last}.{src}+crm@gmail.com"
        ids.append(base + k + 1)
        names.append(name.title())
        emails.append(email)
        phones.append(phone)
        groups.append(group)
        planted.add((src + 1, base + k + 1))
    return (ids, names, emails, phones, groups), planted


def bench_duplicates(args) -> None:
    from salesplan.engines.duplicates import Records, ScanStats, find_duplicates

    started = time.perf_counter()
    (ids, names, emails, phones, groups), planted = synthetic_contacts(args.contacts, args.seed)
    emit("duplicates.generate", time.perf_counter() - started, "s", contacts=args.contacts)
    records = Records(ids=ids, names=names, emails=emails, phones=phones, groups=groups)
    stats = ScanStats()
    started = time.perf_counter()
    found = find_duplicates(records, stats=stats)
    elapsed = time.perf_counter() - started
    pairs = {(c.left_id, c.right_id) for c in found}
    hits = len(planted & pairs)
    # Baseline: every pair scored (no blocking), timed on a sample and extrapolated.
    sample = min(args.baseline_sample, args.contacts)
    from rapidfuzz import fuzz, process

    from salesplan.engines.duplicates import name_tokens

    sample_names = [" ".join(name_tokens(x)) for x in names[:sample]]
    t0 = time.perf_counter()
    process.cdist(sample_names, sample_names, scorer=fuzz.token_sort_ratio, workers=-1)
    sample_time = time.perf_counter() - t0
    baseline = sample_time * (args.contacts / sample) ** 2
    emit("duplicates.scan", elapsed, "s", contacts=args.contacts, baseline=round(baseline, 1),
         ratio=round(baseline / elapsed, 1), baseline_note=(
             f"all-pairs cdist timed on {sample:,} contacts, extrapolated"),
         limit_s=60, met=elapsed <= 60, timings=stats.timings,
         load_average=round(os.getloadavg()[0], 2))
    emit("duplicates.pairs_compared", stats.pairs_compared, "pairs", contacts=args.contacts)
    emit("duplicates.recall", 100.0 * hits / max(1, len(planted)), "%",
         planted=len(planted), found=hits)
    emit("duplicates.flagged", len(found), "pairs", not_planted=len(pairs - planted))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="part", required=True)
    dup = sub.add_parser("duplicates")
    dup.add_argument("--contacts", type=int, default=1_000_000)
    dup.add_argument("--seed", type=int, default=7)
    dup.add_argument("--baseline-sample", type=int, default=5_000)
    lists = sub.add_parser("lists")
    lists.add_argument("--db", help="An existing SQLite database (use a copy).")
    lists.add_argument("--requests", type=int, default=3)
    lists.add_argument("--budget", type=float, default=30.0,
                       help="Seconds the naive version may run per list before it stops.")
    lists.add_argument("--only", action="append", help="Only this check (repeat).")
    stored = sub.add_parser("stored", help="The scan and the snapshot on a database (a copy).")
    stored.add_argument("--db", required=True)
    stored.add_argument("--type", dest="types", action="append",
                        choices=["account", "contact", "lead"])
    stored.add_argument("--snapshot", action="store_true", help="Also time the score snapshot.")
    args = parser.parse_args()
    if args.part == "duplicates":
        bench_duplicates(args)
    elif args.part == "stored":
        bench_stored(args)
    else:
        bench_lists(args)


def bench_stored(args) -> None:
    """The duplicate scan as the job runs it: read the records, match, store the pairs."""
    configure(args.db)
    from django.core.management import call_command

    from salesplan.quality.scanning import run_scan
    from salesplan.quality.scoring import take_snapshot

    call_command("migrate", "quality", verbosity=0)
    for record_type in args.types or ["contact"]:
        started = time.perf_counter()
        scan = run_scan(record_type)
        emit(f"stored.duplicate_scan.{record_type}", time.perf_counter() - started, "s",
             records=scan.records, pairs_compared=scan.pairs_compared,
             candidates=scan.candidates, timings=getattr(scan, "timings", {}), limit_s=60,
             met=time.perf_counter() - started <= 60,
             load_average=round(os.getloadavg()[0], 2))
    if args.snapshot:
        started = time.perf_counter()
        result = take_snapshot()
        emit("stored.score_snapshot", time.perf_counter() - started, "s",
             people=result["people"], load_average=round(os.getloadavg()[0], 2))


# --- the quality-control lists ---------------------------------------------------------


def configure(db: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{Path(db).resolve()}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesplan.config.settings")
    os.environ.setdefault("SALESPLAN_DEBUG", "0")
    import django

    django.setup()
    from django.conf import settings

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def naive_items(check, user, ctx, *, limit: int, budget: float):
    """The naive ORM version: walk the records in list order and test each one in Python
    (with a query per record where the test needs related rows) until a page is full.
    Returns (rows, finished) — not finished when the time budget ran out."""
    from datetime import timedelta

    from salesplan.activities.models import Activity
    from salesplan.pipeline.models import OpportunityChange, StageKind
    from salesplan.quality import checks as qc

    started = time.perf_counter()
    cutoff = ctx.now - timedelta(days=ctx.settings.stale_after_days)
    rules = qc.rules_for(check.record_type) if check.fix == "required_field" else []

    def test(record) -> bool:
        key = check.key
        if check.record_type == "opportunity" and key != "stage_jump" \
                and record.status != StageKind.OPEN:
            return False
        if key == "stale_opportunity":
            return record.created_at < cutoff and not Activity.objects.filter(
                opportunity=record, due_at__gte=cutoff).exists()
        if key == "past_close_date":
            return record.close_date < ctx.today
        if key == "close_date_pushed":
            pushes = [c for c in OpportunityChange.objects.filter(
                opportunity=record, field="close_date") if c.to_close_date > c.from_close_date]
            return len(pushes) >= ctx.settings.close_date_pushes
        if key == "stage_jump":
            since = ctx.now - timedelta(days=ctx.settings.stage_history_days)
            for c in OpportunityChange.objects.filter(opportunity=record, field="stage",
                                                      changed_at__gte=since):
                if c.from_stage_id and c.to_stage_id:
                    a, b = c.from_stage, c.to_stage
                    if (b.position > a.position + 1 and b.kind != "lost") \
                            or b.position < a.position:
                        return True
            return False
        if key == "no_next_step":
            return record.next_step == "" and not Activity.objects.filter(
                opportunity=record, done=False, due_at__gte=ctx.now).exists()
        if check.fix == "required_field":
            return bool(qc.missing_in(record, check.record_type, rules))
        if key == "overdue_activity":
            return (not record.done and record.due_at < ctx.start_of_today
                    and record.kind != "note")
        if key == "lead_not_followed_up":
            hours = ctx.settings.lead_first_touch_hours
            return (record.status in ("new", "working")
                    and record.created_at < ctx.now - timedelta(hours=hours)
                    and not Activity.objects.filter(lead=record, done=True).exists())
        raise ValueError(key)

    model = check.model
    rows = model.objects.visible_to(user).order_by(check.order, "pk")
    if check.record_type == "opportunity":
        rows = rows.select_related("stage")
    found = []
    for record in rows.iterator(chunk_size=2000):
        if test(record):
            found.append(record)
            if len(found) >= limit:
                return found, True
        if time.perf_counter() - started > budget:
            return found, False
    return found, True


def bench_lists(args) -> None:
    import statistics

    if not args.db:
        raise SystemExit("Give --db: a copy of a demo database (it is migrated for quality).")
    configure(args.db)
    from django.core.management import call_command
    from django.db import connection

    from salesplan.customers.models import Account
    from salesplan.org.models import Role, User
    from salesplan.pipeline.models import Opportunity, Pipeline
    from salesplan.quality import checks as qc
    from salesplan.quality import selectors
    from salesplan.quality.models import RequiredField

    call_command("migrate", "quality", verbosity=0)
    call_command("migrate", "marketing", verbosity=0)  # the first-touch SLA it reads
    accounts, opportunities = Account.objects.count(), Opportunity.objects.count()
    scale = {"accounts": accounts, "opportunities": opportunities,
             "load_average": round(os.getloadavg()[0], 2)}
    emit("lists.scale", accounts, "accounts", **scale)
    if not RequiredField.objects.exists():
        proposal = Pipeline.objects.filter(is_default=True).first()
        stage = proposal.stages.filter(name="Proposal").first() if proposal else None
        RequiredField.objects.create(record_type="account", field="industry")
        RequiredField.objects.create(record_type="opportunity", field="contact", stage=stage)
        RequiredField.objects.create(record_type="opportunity", field="amount", stage=stage)
        RequiredField.objects.create(record_type="contact", field="title")
        RequiredField.objects.create(record_type="lead", field="company")
    executive = User.objects.filter(role=Role.EXECUTIVE, is_active=True).first() \
        or User.objects.filter(is_superuser=True).first()
    rep = (User.objects.filter(role=Role.REP, is_active=True, opportunities__isnull=False)
           .order_by("pk").first())
    users = [("executive", executive), ("rep", rep)]
    ctx = qc.Context.current()
    from django.urls import reverse

    reverse("web:quality:overview")  # load the URL configuration before timing anything
    started = time.perf_counter()
    copied = qc.sync_stage_jumps(ctx)
    emit("lists.stage_jumps_sync", time.perf_counter() - started, "s", copied=copied,
         note="copying the window's stage jumps (once; later syncs read only new changes)",
         **scale)
    for label, user in users:
        started = time.perf_counter()
        selectors.check_counts(user, ctx)
        emit(f"lists.overview_counts.{label}", time.perf_counter() - started, "s",
             note="every check counted up to 1,000", **scale)
    for key, check in qc.CHECKS.items():
        if args.only and key not in args.only:
            continue
        for label, user in users:
            times = []
            selectors.check_page(user, check, limit=50, ctx=ctx)  # warm-up, not timed
            for _ in range(args.requests):
                started = time.perf_counter()
                page, items = selectors.check_page(user, check, limit=50, ctx=ctx)
                times.append(time.perf_counter() - started)
                connection.close()  # no warm statement cache carried between runs
            value = statistics.median(times)
            started = time.perf_counter()
            naive, finished = naive_items(check, user, ctx, limit=50, budget=args.budget)
            baseline = time.perf_counter() - started
            extra = {} if finished else {"baseline_note": f"stopped at the {args.budget:.0f} s "
                                                          f"budget with {len(naive)} rows"}
            emit(f"lists.{key}.{label}", value, "s", rows=len(items),
                 baseline=round(baseline, 3), ratio=round(baseline / value, 1) if value else None,
                 limit_s=1.0, met=value <= 1.0, **extra, **scale)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
