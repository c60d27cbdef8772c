"""The demo company comes with an active territory alignment and an active sales plan, so
the territory and plan pages open populated."""

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest

from salesplan.customers.models import Account
from salesplan.demo.build import build_demo
from salesplan.demo.org import DemoOrg
from salesplan.demo.territories_and_plan import (
    MAX_ACCOUNTS,
    build_territories_and_plan,
    split_prefixes,
)
from salesplan.org.models import Role, User
from salesplan.planning.models import Commitment, Level, MonthlyTarget, Plan, PlanStatus
from salesplan.territories.models import (
    AccountTerritory,
    Alignment,
    MemberRole,
    TerritoryMember,
    TerritoryType,
)

pytestmark = pytest.mark.django_db


def test_small_demo_has_an_active_alignment_and_an_active_plan():
    build_demo(seed=5, accounts=200, parallel=False)
    _every_account_with_a_state_sits_in_a_geographic_territory()
    _every_rep_owns_exactly_one_leaf_territory()
    _active_plan_adds_up_to_the_company_target_at_rep_level()


def _every_account_with_a_state_sits_in_a_geographic_territory():
    alignment = Alignment.objects.get(status=Alignment.Status.ACTIVE)
    assert alignment.name == "FY alignment"
    with_state = set(Account.objects.exclude(state="").values_list("id", flat=True))
    assigned = set(AccountTerritory.objects.filter(
        alignment=alignment, type=TerritoryType.GEOGRAPHIC).values_list("account_id", flat=True))
    assert with_state and with_state <= assigned
    regions = alignment.territories.filter(parent=None, type=TerritoryType.GEOGRAPHIC)
    assert sorted(regions.values_list("name", flat=True)) == [
        "Central region", "East region", "South region", "West region"]
    assert alignment.territories.filter(type=TerritoryType.VERTICAL,
                                        name="Healthcare specialists").exists()


def _every_rep_owns_exactly_one_leaf_territory():
    alignment = Alignment.objects.get(status=Alignment.Status.ACTIVE)
    owners = TerritoryMember.objects.filter(territory__alignment=alignment,
                                            role=MemberRole.OWNER)
    leaves = Counter(owners.filter(territory__children__isnull=True)
                     .values_list("user_id", flat=True))
    reps = set(User.objects.filter(role=Role.REP).values_list("id", flat=True))
    assert set(leaves) == reps
    assert set(leaves.values()) == {1}


def _active_plan_adds_up_to_the_company_target_at_rep_level():
    plan = Plan.objects.get(status=PlanStatus.ACTIVE)
    assert plan.owner.username == "vp" and plan.approved_by.username == "admin"
    targets = MonthlyTarget.objects.filter(objective__plan=plan)
    top = sum(targets.filter(objective__parent=None).values_list("target", flat=True),
              Decimal(0))
    reps = sum(targets.filter(objective__level=Level.REP).values_list("target", flat=True),
               Decimal(0))
    assert top > 0 and reps == top
    rep_lines = set(targets.filter(objective__level=Level.REP)
                    .values_list("objective__rep_id", flat=True))
    assert rep_lines == set(User.objects.filter(role=Role.REP).values_list("id", flat=True))
    assert Commitment.objects.filter(plan=plan).values("rep").distinct().count() >= 4


def test_prefixes_split_into_contiguous_non_empty_runs():
    runs = split_prefixes([("100", 5), ("101", 1), ("102", 1), ("103", 5), ("104", 1)], 4)
    assert all(runs) and [p for run in runs for p in run] == ["100", "101", "102", "103", "104"]


def test_large_demo_skips_territories_and_plan_and_says_so():
    said: list[str] = []
    build_territories_and_plan(DemoOrg(company=None), accounts=MAX_ACCOUNTS + 1,  # type: ignore[arg-type]
                               today=date(2026, 3, 1), log=said.append)
    assert "Skipped territories and the sales plan" in said[0]
    assert not Alignment.objects.exists() and not Plan.objects.exists()
