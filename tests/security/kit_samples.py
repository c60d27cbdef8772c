"""A sample record of every record type installed with the record kit
(`core.record_kit.RECORD_TYPES`), for the generated permission matrix
(test_matrix_kit.py). A record type without a sample here fails that test: add one when
you install a new type.

A sample says how to make one record (as the admin, through the services) and the bodies
its create and change send. Records of company-wide reference data (the catalogue, the
scoring rules) have one owner, "company", and their functions receive the `org` fixture.
A record type whose scope depends on who owns the record lists the owners of
feature_matrix.py (`owners=OWNERS[:-1]`: own, teammate, other_team, other_region); its
functions then receive feature_matrix's `World` (`world.user(OWNER_USER[owner])` is the
owner, `world.org` the shared org) and it is probed by feature_matrix's actors, the
other region's manager included.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal as D
from itertools import count
from typing import Any

from django.db import models

from salesplan.compensation import services as comp
from salesplan.marketing import services as marketing
from salesplan.planning import resources as plan_resources
from salesplan.planning import services as planning
from salesplan.pricing import services as pricing
from salesplan.proposals import settings_services as quote_settings
from salesplan.savedviews import services as saved_views
from salesplan.scoring import services as scoring
from salesplan.territories import services as territories
from salesplan.visits import services as visits
from tests.factories import make_account

from .feature_matrix import OWNER_USER, OWNERS

_seq = count(1)
_plan_years = count()  # one plan per team and year; each test starts afresh


@dataclass(frozen=True)
class Sample:
    make: Callable[[Any, str], models.Model]  # (org or World, owner) -> a record
    create: Callable[[Any, models.Model], dict] = lambda org, obj: {}
    change: Callable[[Any, models.Model], dict] = lambda org, obj: {}
    owners: tuple[str, ...] = ("company",)


def _family(org, owner):
    return pricing.create_family(by=org.admin, name=f"Matrix family {next(_seq)}")


def _product(org, owner):
    return pricing.create_product(by=org.admin, sku=f"MX-{next(_seq)}", name="Matrix product",
                                  family=_family(org, owner))


def _book(org, owner):
    return pricing.create_price_book(by=org.admin, name=f"Matrix book {next(_seq)}",
                                     currency="USD")


def _entry(org, owner):
    return pricing.set_entry(_book(org, owner), _product(org, owner), by=org.admin,
                             list_price=D(10), floor_price=None, version=None)


def _rule(org, owner):
    return pricing.create_rule(by=org.admin, name=f"Matrix promotion {next(_seq)}",
                               kind="promotion", discount_pct=D(5))


def _tax_rate(org, owner):
    return pricing.create_tax_rate(by=org.admin, name="Matrix tax", country="US",
                                   state=f"M{next(_seq)}", rate=D(5))


def _day() -> date:
    return date(2001, 1, 1) + timedelta(days=next(_seq))


def _exchange_rate(org, owner):
    return pricing.create_exchange_rate(by=org.admin, base="EUR", quote="USD", rate=D("1.1"),
                                        date=_day())


COMP_DEFINITION = {"commissions": [{"key": "all", "label": "All", "quota": "1000",
                                    "tiers": [{"from": "0", "rate": "0.05"}]}]}


def _comp_plan_body(org, obj) -> dict:
    return {"name": f"Matrix plan {next(_seq)}", "role": "rep", "starts": "2030-01-01",
            "ends": "2030-12-31", "effective_from": "2030-01-01",
            "definition": COMP_DEFINITION}


def _comp_plan(org, owner):
    return comp.create_plan(by=org.admin, data={
        "name": f"Matrix plan {next(_seq)}", "role": "rep", "starts": date(2030, 1, 1),
        "ends": date(2030, 12, 31), "effective_from": date(2030, 1, 1),
        "definition": COMP_DEFINITION})


def _comp_period_dates() -> tuple[date, date]:
    year = 1900 + next(_seq)
    return date(year, 1, 1), date(year, 1, 31)


def _comp_period(org, owner):
    starts, ends = _comp_period_dates()
    return comp.create_period(by=org.admin, data={"name": "Matrix", "starts": starts,
                                                  "ends": ends})


def _comp_period_body(org, obj) -> dict:
    starts, ends = _comp_period_dates()
    return {"name": "New", "starts": starts.isoformat(), "ends": ends.isoformat()}


def _comp_credit_rule(org, owner):
    return comp.create_credit_rule(by=org.admin, data={
        "name": f"Matrix roll-up {next(_seq)}", "kind": "manager", "share": D(1),
        "effective_from": date(2030, 1, 1)})


def _scoring_rule(org, owner):
    return scoring.create_rule(by=org.admin, data={
        "kind": "fit", "field": "industry", "operator": "equals", "value": "Matrix",
        "points": 5})


def _approval_rule(org, owner):
    return quote_settings.create_rule(by=org.admin, data={
        "name": f"Matrix step {next(_seq)}", "metric": "discount", "threshold_pct": D(40),
        "approver": "director", "step": 3})


def _campaign(org, owner):
    return marketing.create_campaign(by=org.admin, data={"name": f"Matrix campaign {next(_seq)}"})


def _capture_form(org, owner):
    return marketing.create_form(by=org.admin, data={"name": f"Matrix form {next(_seq)}"})


def _west_plan(org):
    return planning.create_plan(by=org.admin, name=f"Matrix plan {next(_seq)}",
                                fiscal_year=2000 + next(_plan_years) % 100, team=org.west)


def _seat(org, owner):
    # the west rep's own seat: the one seat a rep sees of the plan
    return plan_resources.add_resource(_west_plan(org), by=org.admin, user=org.west_rep)


def _budget_line(org, owner):
    return plan_resources.add_budget_line(_west_plan(org), by=org.admin, category="travel",
                                          description="Matrix visits", month=1, amount=D(10))


# A territory's parts are judged by their territory: one per rep in feature_matrix's map.
TERRITORY_OWNERS = OWNERS[:-1]


def _territory_rule(world, owner):
    return territories.create_rule(world.territory_of[owner], by=world.org.admin, conditions=[
        {"field": "postal_code", "op": "prefix", "values": [f"8{next(_seq):05d}"]}])


def _territory_member(world, owner):
    return territories.add_member(world.territory_of[owner], by=world.org.admin,
                                  user=world.user(OWNER_USER[owner]), role="overlay")


def _named_account(world, owner):
    account = make_account(world.user(OWNER_USER[owner]), name=f"Named {next(_seq)}")
    return territories.set_named_account(world.territory_of[owner], account,
                                         by=world.org.admin)


def _saved_view(world, owner):
    return saved_views.create_view(by=world.user(OWNER_USER[owner]), data={
        "name": f"Matrix view {next(_seq)}", "list_key": "accounts", "params": {"q": "a"}})


def _visit_rule(org, owner):
    return visits.create_rule(by=org.admin, data={
        "tier": "smb", "industry": f"Matrix {next(_seq)}", "visits_per_month": D("1.5")})


SAMPLES: dict[tuple[str, str], Sample] = {
    ("/visits", "visit_rule"): Sample(
        _visit_rule, lambda org, obj: {"tier": "enterprise", "industry": f"New {next(_seq)}",
                                       "visits_per_month": "2"},
        lambda org, obj: {"visits_per_month": "3"}),
    ("/pricing", "family"): Sample(
        _family, lambda org, obj: {"name": f"New family {next(_seq)}"},
        lambda org, obj: {"description": "Changed by the matrix"}),
    ("/pricing", "product"): Sample(
        _product, lambda org, obj: {"sku": f"NEW-{next(_seq)}", "name": "New",
                                    "family_id": obj.family_id},
        lambda org, obj: {"name": "Changed by the matrix"}),
    ("/pricing", "price_book"): Sample(
        _book, lambda org, obj: {"name": f"New book {next(_seq)}", "currency": "EUR"},
        lambda org, obj: {"description": "Changed by the matrix"}),
    ("/pricing", "entry"): Sample(_entry),
    ("/pricing", "rule"): Sample(
        _rule, lambda org, obj: {"name": f"New promotion {next(_seq)}", "kind": "promotion",
                                 "discount_pct": "3"},
        lambda org, obj: {"description": "Changed by the matrix"}),
    ("/pricing", "tax_rate"): Sample(
        _tax_rate, lambda org, obj: {"name": "New tax", "country": "DE",
                                     "state": f"N{next(_seq)}", "rate": "19"},
        lambda org, obj: {"name": "Changed by the matrix"}),
    ("/pricing", "exchange_rate"): Sample(
        _exchange_rate, lambda org, obj: {"base": "EUR", "quote": "USD", "rate": "1.2",
                                          "date": _day().isoformat()}),
    ("/comp", "comp_plan"): Sample(_comp_plan, _comp_plan_body,
                                   lambda org, obj: {"name": "Renamed plan"}),
    ("/comp", "comp_period"): Sample(_comp_period, _comp_period_body),
    ("/comp", "comp_credit_rule"): Sample(
        _comp_credit_rule, lambda org, obj: {"name": f"New roll-up {next(_seq)}",
                                             "kind": "overlay", "effective_from": "2030-01-01"},
        lambda org, obj: {"share": "0.5"}),
    ("/scoring", "scoring_rule"): Sample(
        _scoring_rule, lambda org, obj: {"kind": "fit", "field": "industry",
                                         "operator": "equals", "value": "New", "points": 3},
        lambda org, obj: {"points": 7}),
    ("/quotes", "approval_rule"): Sample(
        _approval_rule, lambda org, obj: {"name": f"New step {next(_seq)}",
                                          "metric": "margin", "threshold_pct": "10",
                                          "approver": "admin", "step": 4},
        lambda org, obj: {"threshold_pct": "45"}),
    ("/territories", "rule"): Sample(
        _territory_rule, lambda world, obj: {"conditions": [
            {"field": "postal_code", "op": "prefix", "values": [f"7{next(_seq):05d}"]}]},
        lambda world, obj: {"combine": "any"}, owners=TERRITORY_OWNERS),
    ("/territories", "member"): Sample(
        _territory_member, lambda world, obj: {  # a person of the territory's own team
            "user_id": obj.user_id if obj else world.org.admin.pk, "role": "overlay"},
        lambda world, obj: {"role": "manager"}, owners=TERRITORY_OWNERS),
    ("/territories", "named_account"): Sample(
        _named_account,
        lambda world, obj: {"account_id": obj.account_id if obj else 1, "include": False},
        owners=TERRITORY_OWNERS),
    ("/marketing", "campaign"): Sample(
        _campaign, lambda org, obj: {"name": f"New campaign {next(_seq)}", "budget": "100"},
        lambda org, obj: {"description": "Changed by the matrix"}),
    ("/marketing", "form"): Sample(
        _capture_form, lambda org, obj: {"name": f"New form {next(_seq)}",
                                         "fields": ["company"]},
        lambda org, obj: {"thank_you": "Changed by the matrix"}),
    ("/plans", "resource"): Sample(
        _seat, lambda org, obj: {"name": f"Matrix hire {next(_seq)}", "ramp": [50]}),
    ("/plans", "budget_line"): Sample(
        _budget_line, lambda org, obj: {"category": "travel", "description": "Visits",
                                        "month": 2, "amount": "100.00"}),
    ("", "saved_view"): Sample(
        _saved_view, lambda org, obj: {"name": f"New view {next(_seq)}", "list_key": "leads"},
        lambda org, obj: {"name": f"Renamed view {next(_seq)}"},
        owners=("own", "teammate", "other_team", "other_region")),
}
