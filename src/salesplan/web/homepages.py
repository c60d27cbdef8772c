"""The home page of each role, put together from the owning apps' selectors.

A rep's home is My day. A sales manager's is their team: open pipeline by rep, overdue
follow-ups, quote approvals waiting on them and deals at risk. An executive's (and an
admin's) is the company: the plan's pace this quarter, the forecast beside its baseline,
and territory violations. Marketing's is its funnel: web-form submissions, first-touch
SLA misses and campaign results. Every block reads a fixed number of queries and only
what the user may see; each links to the page that shows all of it.
"""

from collections import defaultdict
from decimal import Decimal

from salesplan.activities.selectors import overdue_follow_ups
from salesplan.core.clock import company_today
from salesplan.forecasting.selectors import executive_forecast
from salesplan.marketing.selectors import campaign_outcomes, form_submissions, sla_misses
from salesplan.org.models import Role, User
from salesplan.pipeline.models import Stage
from salesplan.pipeline.selectors import open_pipeline_by_owner
from salesplan.planning.selectors import pacing
from salesplan.proposals.selectors import approval_inbox
from salesplan.quality.selectors import at_risk_deals, territory_items
from salesplan.territories.selectors import pending_exceptions

BLOCK_ROWS = 10


def home_kind(user) -> str:
    """Which home page the user gets: "team", "company", "marketing" or "my_day"."""
    if user.is_admin or user.role == Role.EXECUTIVE:
        return "company"
    if user.role == Role.MANAGER:
        return "team"
    if user.role == Role.MARKETING:
        return "marketing"
    return "my_day"


def team_people(user) -> list[User]:
    """The people of the manager's team subtree (the manager too), by name."""
    ids = user.visible_owner_ids
    people = User.objects.filter(is_active=True)
    if ids is not None:
        people = people.filter(pk__in=ids)
    return list(people.order_by("last_name", "first_name", "id"))


def _totals(cells) -> list[dict]:
    """Cells {currency, count, amount, weighted} added up per currency."""
    sums: dict[str, dict] = {}
    for cell in cells:
        total = sums.setdefault(cell["currency"], {
            "currency": cell["currency"], "count": 0, "amount": Decimal("0.00"),
            "weighted": Decimal("0.00")})
        for key in ("count", "amount", "weighted"):
            total[key] += cell[key]
    return [sums[c] for c in sorted(sums)]


def pipeline_by_rep(user, people: list[User]) -> dict:
    """Open pipeline of each person by stage, with totals and weighted value per
    currency; people with no open deal are left out."""
    rows = open_pipeline_by_owner(user, [p.pk for p in people])
    stages = list(Stage.objects.filter(pk__in={r["stage_id"] for r in rows})
                  .select_related("pipeline").order_by("pipeline__position",
                                                       "pipeline_id", "position"))
    by_owner: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        by_owner[row["owner_id"]].append(row)
    reps = []
    for person in people:
        mine = by_owner.get(person.pk)
        if not mine:
            continue
        cells = [_totals(r for r in mine if r["stage_id"] == stage.pk) for stage in stages]
        reps.append({"user": person, "cells": cells, "totals": _totals(mine)})
    return {"stages": stages, "reps": reps, "totals": _totals(rows)}


def team_home(user) -> dict:
    people = team_people(user)
    ids = [p.pk for p in people]
    names = {p.pk: p for p in people}
    overdue = overdue_follow_ups(user, ids, limit=BLOCK_ROWS)
    approvals = approval_inbox(user)
    return {
        "pipeline": pipeline_by_rep(user, people),
        "overdue": {**overdue, "per_owner": [
            {"user": names[owner], "count": n, "oldest": oldest}
            for owner, (n, oldest) in sorted(overdue["per_owner"].items(),
                                             key=lambda item: (-item[1][0], item[0]))
            if owner in names]},
        "approvals": {"rows": list(approvals[:BLOCK_ROWS]), "count": approvals.count()},
        "at_risk": at_risk_deals(user, ids, limit=BLOCK_ROWS),
    }


def company_home(user) -> dict:
    """The company's blocks; the forecast comes after the page (`company_forecast`): its
    statistical fit takes seconds on the first visit of a month."""
    violations = territory_items(user, limit=BLOCK_ROWS)
    exceptions, exception_count = pending_exceptions(user, limit=BLOCK_ROWS)
    return {
        "pacing": pacing(user, as_of=company_today()),
        "forecast_pending": True,
        "violations": {"rows": violations, "more": len(violations) >= BLOCK_ROWS},
        "exceptions": {"rows": exceptions, "count": exception_count},
    }


def company_forecast(user) -> dict:
    """The forecast block of the company's home page, beside its baselines."""
    return {"forecast": executive_forecast(user), "forecast_pending": False}


def marketing_home(user) -> dict:
    return {
        "submissions": form_submissions(user),
        "sla": sla_misses(user, limit=BLOCK_ROWS),
        "campaigns": campaign_outcomes(user, limit=BLOCK_ROWS),
    }
