"""Quality-control benchmark: the duplicate scan and the quality-control lists.

    .venv/bin/python bench/bench_quality.py duplicates --contacts 1000000
    .venv/bin/python bench/bench_quality.py lists --db var/bench-copy.sqlite3   # a copy!
    .venv/bin/python bench/bench_quality.py lists --build 20000                 # temp DB

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
         limit_s=60, met=elapsed <= 60, timings=stats.timings)
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
    lists.add_argument("--build", type=int, default=0,
                       help="Build a temporary demo database with this many accounts.")
    lists.add_argument("--requests", type=int, default=5)
    args = parser.parse_args()
    if args.part == "duplicates":
        bench_duplicates(args)
    else:
        bench_lists(args)


def bench_lists(args) -> None:  # filled in below
    raise SystemExit("not built yet")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
