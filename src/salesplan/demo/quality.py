"""Demo quality control: a required-field policy, a duplicate scan of each record type
and today's data-quality scores, all through the quality services."""

import random
from collections.abc import Callable
from datetime import date

from salesplan.org.models import User
from salesplan.pipeline.models import Pipeline

from .org import DemoOrg

MAX_ACCOUNTS = 200_000


def build(org: DemoOrg, *, accounts: int, today: date, rng: random.Random,
          log: Callable[[str], None] = lambda s: None) -> None:
    """Policy, scans and scores; for very large demos only the policy."""
    from salesplan.quality import services
    from salesplan.quality.models import DUPLICATE_TYPES, RequiredField
    from salesplan.quality.scanning import run_scan
    from salesplan.quality.scoring import take_snapshot

    admin = User.objects.filter(username="admin").first() or User.objects.filter(
        is_superuser=True).first()
    if admin is None:
        log("Quality: skipped (no admin).")
        return
    pipeline = Pipeline.objects.filter(is_default=True).first()
    proposal = pipeline.stages.filter(name="Proposal").first() if pipeline else None
    wanted = [("account", "industry", None), ("contact", "title", None),
              ("opportunity", "contact", proposal), ("opportunity", "amount", proposal)]
    for record_type, field, stage in wanted:
        if not RequiredField.objects.filter(record_type=record_type, field=field,
                                            stage=stage).exists():
            services.add_required_field(by=admin, record_type=record_type, field=field,
                                        stage=stage)
    if accounts > MAX_ACCOUNTS:
        log(f"Quality: policy set; scans and scores skipped ({accounts:,} accounts > "
            f"{MAX_ACCOUNTS:,}: run `salesplan quality duplicates` and `snapshot`).")
        return
    found = {t: run_scan(t).candidates for t in DUPLICATE_TYPES}
    result = take_snapshot(today)
    log(f"Quality: {len(wanted)} required fields; likely duplicates "
        + ", ".join(f"{n:,} {t}s" for t, n in found.items())
        + f"; scores for {result['people']} people.")
