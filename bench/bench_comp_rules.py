"""Overlay and manager roll-up credit for a period's won deals: found in columns for all
deals at once (`compensation.rule_credits`, what the one-pass calculation runs) against
deal by deal (`calculation.Crediting`, what the exact path runs and the one-pass path ran
before), on the same deals in the same process; both are checked to give the same lines.

Builds a fresh SQLite file database (or fills the one in DATABASE_URL: never one you
keep) with --reps reps in teams of ten under a manager, --deals won deals over 2026
(bench_comp_db's generator), an active alignment of one territory per 25 accounts, two
overlay specialists per territory (one of them from mid-year), and an overlay rule and a
roll-up rule. Prints one JSON line per metric:

    .venv/bin/python bench/bench_comp_rules.py [--reps 200] [--deals 200000]

- rule_credits_columns: seconds to find every rule credit line in columns (CPU seconds
  in `cpu`).
- rule_credits_per_deal: the same deal by deal; ratio = per deal ÷ columns.
"""

import argparse
import random
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_comp_db import YEAR, build, emit, setup_django  # noqa: E402


def overlay_map(people, rng: random.Random) -> None:
    from salesplan.customers.models import Account
    from salesplan.org.models import Role, Team, User
    from salesplan.territories.models import (
        AccountTerritory,
        Alignment,
        MemberRole,
        Territory,
        TerritoryMember,
    )

    for start in range(0, len(people), 10):
        manager = User.objects.create_user(f"bench-manager-{start}-{rng.random()}",
                                           role=Role.MANAGER)
        team = Team.objects.create(name=f"Team {start}", manager=manager)
        User.objects.filter(pk__in=[p.pk for p in people[start:start + 10]]).update(team=team)
    alignment = Alignment.objects.create(name="Bench", status=Alignment.Status.ACTIVE)
    accounts = list(Account.objects.order_by("id").values_list("id", flat=True))
    territories = Territory.objects.bulk_create(
        Territory(alignment=alignment, name=f"T{i}") for i in range(0, len(accounts), 25))
    AccountTerritory.objects.bulk_create(
        (AccountTerritory(account_id=a, alignment=alignment, territory=territories[i // 25],
                          type="geographic", reason="bench") for i, a in enumerate(accounts)),
        batch_size=5000)
    TerritoryMember.objects.bulk_create(
        TerritoryMember(territory=t, user=rng.choice(people), role=MemberRole.OVERLAY,
                        start_date=start, end_date=None)
        for t in territories for start in (YEAR, date(2026, 7, 1)))


def rules(admin):
    from salesplan.compensation import services

    for name, kind, share in (("Overlay", "overlay", "0.5"), ("Roll-up", "manager", "1")):
        services.create_credit_rule(by=admin, data={"name": name, "kind": kind,
                                                    "share": Decimal(share),
                                                    "effective_from": YEAR})


def timed(action):
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--deals", type=int, default=200_000)
    options = parser.parse_args()
    setup_django()
    from salesplan.compensation import batch, calculation, rule_credits

    rng = random.Random(5)
    admin, period, people = build(options.reps, options.deals, rng)
    overlay_map(people, rng)
    rules(admin)
    crediting = calculation.Crediting()
    won = batch.read_won(period)
    deals = rule_credits.DealColumns(won.id, won.day, won.account, won.owner)
    columns, seconds, cpu = timed(lambda: rule_credits.rule_credits(deals, crediting.rules))
    emit("rule_credits_columns", round(seconds, 2), "s", cpu=round(cpu, 2),
         deals=len(won.id), lines=len(columns[0]))
    opportunities = calculation.won_deals(period)

    def per_deal():
        return [(o.pk, c.rep, c.share) for o in opportunities
                for c in calculation.Crediting.credits(crediting, o, [])
                if c.rule not in ("owner", "split")]

    lines, slow, slow_cpu = timed(per_deal)
    emit("rule_credits_per_deal", round(slow, 2), "s", cpu=round(slow_cpu, 2),
         baseline=round(seconds, 2), ratio=round(slow / seconds, 1), lines=len(lines))
    found = sorted(zip(won.id[columns[0]].tolist(), columns[1].tolist(),
                       columns[2].tolist(), strict=True))
    expected = sorted((d, r, int(s * 1_000_000)) for d, r, s in lines)
    assert found == expected, "the two ways credit differently"
    assert np.all(columns[2] > 0)


if __name__ == "__main__":
    main()
