"""Every change to an existing record over the API carries the version the client read.

One table of writes (PATCH, PUT, DELETE and POST actions on a record, across the apps);
for each: without `version` the answer is 428, with a version someone else's change made
stale it is 409 naming the current version, and in both cases the stored rows are exactly
as they were. The same write with the current version succeeds, so the refusals are about
the version and nothing else.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal as D
from typing import Any

import pytest
from django.db import models
from django.db.models import F

from salesplan.marketing import services as marketing
from salesplan.marketing.models import MarketingPolicy
from salesplan.proposals import services as proposals
from salesplan.territories import services as territories
from salesplan.territories.models import BoundaryException, NamedAccount

from ..api.conftest import api_as, assert_problem  # noqa: F401 - the API caller fixture
from ..factories import make_account, make_opportunity
from ..proposals.test_pricing import shop  # noqa: F401 - the catalogue fixture
from ..territories.conftest import build_map


@dataclass
class Target:
    """One write: the record whose version it must carry, the request without the
    version, and every record whose stored row must not change when it is refused."""

    versioned: models.Model
    method: str
    path: str
    body: dict[str, Any]
    watched: tuple[models.Model, ...] = ()
    actor: str = "admin"


@dataclass(frozen=True)
class Write:
    name: str
    build: Callable[..., Target]


# --- the writes ------------------------------------------------------------------------------


def _opportunity_move(org, catalogue):
    deal = make_opportunity(org.west_rep)
    stage = deal.pipeline.stages.get(position=1)
    return Target(deal, "post", f"/opportunities/{deal.pk}/move", {"stage_id": stage.pk})


def _opportunity_close_lost(org, catalogue):
    deal = make_opportunity(org.west_rep)
    lost = deal.pipeline.stages.get(kind="lost")
    return Target(deal, "post", f"/opportunities/{deal.pk}/move",
                  {"stage_id": lost.pk, "lost_reason": "Budget cut"})


def _opportunity_patch(org, catalogue):
    deal = make_opportunity(org.west_rep)
    return Target(deal, "patch", f"/opportunities/{deal.pk}", {"amount": "99.00"})


def _account_patch(org, catalogue):
    account = make_account(org.west_rep)
    return Target(account, "patch", f"/accounts/{account.pk}", {"name": "Renamed"})


def _quote(org, catalogue):
    quote = proposals.create_quote(by=org.west_rep, opportunity=catalogue["opportunity"],
                                   lines=[{"product_id": catalogue["router"].pk,
                                           "quantity": D(5)}])
    return quote, proposals.current_version(quote).lines.get()


def _quote_patch(org, catalogue):
    quote, line = _quote(org, catalogue)
    return Target(quote, "patch", f"/quotes/{quote.pk}", {"payment_terms": "Net 60"},
                  (line,), actor="west_rep")


def _quote_line_patch(org, catalogue):
    quote, line = _quote(org, catalogue)
    return Target(quote, "patch", f"/quotes/{quote.pk}/lines/{line.pk}", {"quantity": "2"},
                  (line,), actor="west_rep")


def _quote_line_add(org, catalogue):
    quote, line = _quote(org, catalogue)
    return Target(quote, "post", f"/quotes/{quote.pk}/lines",
                  {"product_id": catalogue["install"].pk, "quantity": "1"}, (line,),
                  actor="west_rep")


def _quote_line_delete(org, catalogue):
    quote, line = _quote(org, catalogue)
    return Target(quote, "delete", f"/quotes/{quote.pk}/lines/{line.pk}", {}, (line,),
                  actor="west_rep")


def _quote_submit(org, catalogue):
    quote, line = _quote(org, catalogue)
    return Target(quote, "post", f"/quotes/{quote.pk}/submit", {}, (line,), actor="west_rep")


def _quote_new_version(org, catalogue):
    quote, line = _quote(org, catalogue)
    return Target(quote, "post", f"/quotes/{quote.pk}/versions", {}, (line,),
                  actor="west_rep")


def _quote_delete(org, catalogue):
    quote, line = _quote(org, catalogue)
    return Target(quote, "delete", f"/quotes/{quote.pk}", {}, (line,), actor="west_rep")


def _campaign(org):
    return marketing.create_campaign(by=org.marketer, data={
        "name": "Spring webinar", "type": "webinar", "budget": "5000", "currency": "USD"})


def _campaign_patch(org, catalogue):
    campaign = _campaign(org)
    return Target(campaign, "patch", f"/marketing/campaigns/{campaign.pk}",
                  {"budget": "7000"}, actor="marketer")


def _campaign_delete(org, catalogue):
    campaign = _campaign(org)
    return Target(campaign, "delete", f"/marketing/campaigns/{campaign.pk}", {},
                  actor="marketer")


def _capture_form_patch(org, catalogue):
    form = marketing.create_form(by=org.marketer, data={
        "name": "Sign-up", "fields": ["company"], "required_fields": []})
    return Target(form, "patch", f"/marketing/forms/{form.pk}", {"is_active": False},
                  actor="marketer")


def _policy_put(org, catalogue):
    policy = MarketingPolicy.current()
    return Target(policy, "put", "/marketing/policy", {
        "sla_hours": 8, "routing_method": "least_loaded", "default_capacity": 30},
        actor="marketer")


def _alignment_patch(org, catalogue):
    alignment = build_map(org).alignment
    return Target(alignment, "patch", f"/territories/alignments/{alignment.pk}",
                  {"name": "FY28"})


def _alignment_activate(org, catalogue):
    alignment = build_map(org).alignment
    return Target(alignment, "post", f"/territories/alignments/{alignment.pk}/activate",
                  {"ownership": "stay"})


def _territory_patch(org, catalogue):
    west = build_map(org).west
    return Target(west, "patch", f"/territories/{west.pk}", {"priority": 7})


def _territory_delete(org, catalogue):
    east = build_map(org).east
    return Target(east, "delete", f"/territories/{east.pk}", {})


def _rule_patch(org, catalogue):
    rule = build_map(org).west.rules.get()
    return Target(rule, "patch", f"/territories/rules/{rule.pk}", {"conditions": [
        {"field": "postal_code", "op": "prefix", "values": ["95"]}]})


def _rule_delete(org, catalogue):
    rule = build_map(org).west.rules.get()
    return Target(rule, "delete", f"/territories/rules/{rule.pk}", {})


def _member_patch(org, catalogue):
    member = build_map(org).west.members.get(user=org.west_rep2)
    return Target(member, "patch", f"/territories/members/{member.pk}", {"role": "owner"})


def _member_delete(org, catalogue):
    member = build_map(org).west.members.get(user=org.west_rep2)
    return Target(member, "delete", f"/territories/members/{member.pk}", {})


def _named_account_delete(org, catalogue):
    west = build_map(org).west
    named = territories.set_named_account(west, make_account(org.admin), by=org.admin)
    named = NamedAccount.objects.get(pk=named.pk)
    return Target(named, "delete", f"/territories/named-accounts/{named.pk}", {})


def _exception_approve(org, catalogue):
    from datetime import timedelta

    from salesplan.core.clock import company_today

    exception = territories.request_exception(
        by=org.west_rep, account=make_account(org.west_rep), reason="Referral",
        until=company_today() + timedelta(days=7))
    exception = BoundaryException.objects.get(pk=exception.pk)
    return Target(exception, "post", f"/territories/exceptions/{exception.pk}/approve",
                  {"note": "ok"}, actor="west_manager")


def _pricing(catalogue, name: str):
    """A record of the catalogue fixture, or of the pricing kind named."""
    from salesplan.pricing import services as pricing
    from salesplan.pricing.models import ExchangeRate, PricingRule, TaxRate

    if name == "rule":
        return PricingRule.objects.get(name="Router volume")
    if name == "tax":
        return TaxRate.objects.get(name="California")
    if name == "entry":
        return catalogue["book"].entries.get(product=catalogue["router"])
    if name == "rate":
        from datetime import date

        from salesplan.org.models import User

        admin = User.objects.filter(role="admin").first()
        pricing.create_exchange_rate(by=admin, base="EUR", quote="USD", rate=D("1.08"),
                                     date=date(2026, 1, 1))
        return ExchangeRate.objects.get(base="EUR", quote="USD")
    return catalogue[name]


def _family_patch(org, catalogue):
    family = catalogue["router"].family
    return Target(family, "patch", f"/pricing/families/{family.pk}", {"min_margin_pct": "25"})


def _product_patch(org, catalogue):
    router = catalogue["router"]
    return Target(router, "patch", f"/pricing/products/{router.pk}", {"name": "Router X"})


def _product_delete(org, catalogue):
    from salesplan.pricing import services as pricing

    unused = pricing.create_product(by=org.admin, sku="NEW-1", name="Never priced",
                                    family=catalogue["router"].family, cost=D("1.00"))
    return Target(unused, "delete", f"/pricing/products/{unused.pk}", {})


def _price_book_patch(org, catalogue):
    book = catalogue["book"]
    return Target(book, "patch", f"/pricing/price-books/{book.pk}", {"description": "2027"})


def _price_entry_put(org, catalogue):
    entry = _pricing(catalogue, "entry")
    return Target(entry, "put", f"/pricing/price-books/{entry.price_book_id}/entries/"
                                f"{entry.product_id}", {"list_price": "130"})


def _price_entry_delete(org, catalogue):
    entry = _pricing(catalogue, "entry")
    return Target(entry, "delete", f"/pricing/price-books/{entry.price_book_id}/entries/"
                                   f"{entry.product_id}", {})


def _pricing_rule_patch(org, catalogue):
    rule = _pricing(catalogue, "rule")
    return Target(rule, "patch", f"/pricing/rules/{rule.pk}", {"name": "Router tiers"})


def _pricing_rule_delete(org, catalogue):
    rule = _pricing(catalogue, "rule")
    return Target(rule, "delete", f"/pricing/rules/{rule.pk}", {})


def _tax_rate_patch(org, catalogue):
    tax = _pricing(catalogue, "tax")
    return Target(tax, "patch", f"/pricing/tax-rates/{tax.pk}", {"rate": "8"})


def _tax_rate_delete(org, catalogue):
    tax = _pricing(catalogue, "tax")
    return Target(tax, "delete", f"/pricing/tax-rates/{tax.pk}", {})


def _exchange_rate_replace(org, catalogue):
    rate = _pricing(catalogue, "rate")
    return Target(rate, "post", "/pricing/exchange-rates", {
        "base": "EUR", "quote": "USD", "rate": "1.10", "date": "2026-01-01"})


def _exchange_rate_delete(org, catalogue):
    rate = _pricing(catalogue, "rate")
    return Target(rate, "delete", f"/pricing/exchange-rates/{rate.pk}", {})


def _scoring_rule(org):
    from salesplan.scoring import services as scoring

    return scoring.create_rule(by=org.admin, data={
        "kind": "fit", "field": "industry", "operator": "equals", "value": "Healthcare",
        "points": 30, "label": "Healthcare", "active": True})


def _scoring_rule_patch(org, catalogue):
    rule = _scoring_rule(org)
    return Target(rule, "patch", f"/scoring/rules/{rule.pk}", {"points": 35},
                  actor="marketer")


def _scoring_rule_delete(org, catalogue):
    rule = _scoring_rule(org)
    return Target(rule, "delete", f"/scoring/rules/{rule.pk}", {}, actor="marketer")


def _comment(org):
    from salesplan.collab import services as collab

    from ..factories import make_lead

    return collab.post_comment(make_lead(org.west_rep), by=org.west_rep, body="First")


def _comment_patch(org, catalogue):
    comment = _comment(org)
    return Target(comment, "patch", f"/collab/comments/{comment.pk}", {"body": "Second"},
                  actor="west_rep")


def _comment_delete(org, catalogue):
    comment = _comment(org)
    return Target(comment, "delete", f"/collab/comments/{comment.pk}", {}, actor="west_rep")


def _saved_report(org):
    from salesplan.reports import services as reports

    return reports.save_report(by=org.west_rep, name="My pipeline", report="pipeline",
                               filters={})


def _saved_report_patch(org, catalogue):
    saved = _saved_report(org)
    return Target(saved, "patch", f"/reports/saved/{saved.pk}", {"shared": True},
                  actor="west_rep")


def _saved_report_delete(org, catalogue):
    saved = _saved_report(org)
    return Target(saved, "delete", f"/reports/saved/{saved.pk}", {}, actor="west_rep")


def _schedule_delete(org, catalogue):
    from salesplan.reports import services as reports

    schedule = reports.schedule_report(by=org.west_rep, saved_report=_saved_report(org),
                                       recipients=["rep@example.com"], frequency="weekly",
                                       fmt="xlsx")
    return Target(schedule, "delete", f"/reports/schedules/{schedule.pk}", {},
                  actor="west_rep")


def _plan(org, with_target: bool = False):
    from salesplan.planning import services as planning

    from ..planning.conftest import FY

    plan = planning.create_plan(by=org.west_manager, name="West plan", fiscal_year=FY,
                                team=org.west)
    if with_target:
        planning.set_plan_target(plan, by=org.west_manager, measure="bookings",
                                 total=D(1200))
    return plan


def _plan_rename(org, catalogue):
    plan = _plan(org)
    return Target(plan, "patch", f"/plans/{plan.pk}", {"name": "Renamed"},
                  actor="west_manager")


def _plan_delete(org, catalogue):
    plan = _plan(org)
    return Target(plan, "delete", f"/plans/{plan.pk}", {}, actor="west_manager")


def _plan_submit(org, catalogue):
    plan = _plan(org)
    return Target(plan, "post", f"/plans/{plan.pk}/submit", {}, actor="west_manager")


def _plan_target(org, catalogue):
    plan = _plan(org, with_target=True)
    top = plan.objectives.get()
    return Target(plan, "post", f"/plans/{plan.pk}/targets",
                  {"measure": "bookings", "total": "2400"}, (top,), actor="west_manager")


def _plan_allocate(org, catalogue):
    plan = _plan(org, with_target=True)
    top = plan.objectives.get()
    return Target(plan, "post", f"/plans/{plan.pk}/allocate",
                  {"objective_id": top.pk, "to": "reps", "method": "even"}, (top,),
                  actor="west_manager")


def _plan_change_apply(org, catalogue):
    from salesplan.planning import changes

    plan = _plan(org, with_target=True)
    top = plan.objectives.get()
    preview = changes.preview_allocation(top, by=org.west_manager, to="reps", method="even")
    return Target(plan, "post", f"/plans/{plan.pk}/changes/apply", {"preview": preview.token},
                  (top,), actor="west_manager")


def _alignment_activation_apply(org, catalogue):
    from salesplan.territories.activation import preview_activation
    from salesplan.territories.assignment import run_full_assignment

    alignment = build_map(org).alignment
    run_full_assignment(alignment)
    alignment.refresh_from_db()
    preview = preview_activation(alignment, by=org.admin, ownership="stay")
    return Target(alignment, "post", f"/territories/alignments/{alignment.pk}/activate/apply",
                  {"ownership": "stay", "fingerprint": preview.fingerprint})


def _approval_rule_patch(org, catalogue):
    from salesplan.proposals.models import ApprovalRule

    rule = ApprovalRule.objects.order_by("step").first()
    return Target(rule, "patch", f"/quotes/approval-rules/{rule.pk}", {"threshold_pct": "12"})


def _approval_rule_delete(org, catalogue):
    from salesplan.proposals.models import ApprovalRule

    rule = ApprovalRule.objects.order_by("step").first()
    return Target(rule, "delete", f"/quotes/approval-rules/{rule.pk}", {})


def _quality_settings_patch(org, catalogue):
    from salesplan.quality.models import QualitySettings

    return Target(QualitySettings.current(), "patch", "/quality/settings",
                  {"stale_after_days": 14})


def _required_field_delete(org, catalogue):
    from salesplan.quality import services as quality

    rule = quality.add_required_field(by=org.admin, record_type="account", field="industry")
    return Target(rule, "delete", f"/quality/policy/{rule.pk}", {})


WRITES = [Write(fn.__name__.lstrip("_"), fn) for fn in (
    _opportunity_move, _opportunity_close_lost, _opportunity_patch, _account_patch,
    _quote_patch, _quote_line_patch, _quote_line_add, _quote_line_delete, _quote_submit,
    _quote_new_version, _quote_delete,
    _campaign_patch, _campaign_delete, _capture_form_patch, _policy_put,
    _alignment_patch, _alignment_activate, _territory_patch, _territory_delete, _rule_patch,
    _rule_delete, _member_patch, _member_delete, _named_account_delete, _exception_approve,
    _family_patch, _product_patch, _product_delete, _price_book_patch, _price_entry_put,
    _price_entry_delete, _pricing_rule_patch, _pricing_rule_delete, _tax_rate_patch,
    _tax_rate_delete, _exchange_rate_replace, _exchange_rate_delete,
    _scoring_rule_patch, _scoring_rule_delete, _comment_patch, _comment_delete,
    _saved_report_patch, _saved_report_delete, _schedule_delete,
    _plan_rename, _plan_delete, _plan_submit, _plan_target, _plan_allocate, _plan_change_apply,
    _alignment_activation_apply,
    _approval_rule_patch, _approval_rule_delete, _quality_settings_patch,
    _required_field_delete,
)]


# --- the checks ------------------------------------------------------------------------------


def stored_row(record: models.Model) -> dict[str, Any] | None:
    """Every stored column of the record (None once it is gone)."""
    fresh = type(record)._default_manager.filter(pk=record.pk).first()
    if fresh is None:
        return None
    return {f.attname: getattr(fresh, f.attname) for f in fresh._meta.concrete_fields}


def stored_rows(target: Target) -> list[dict[str, Any] | None]:
    return [stored_row(r) for r in (target.versioned, *target.watched)]


def send(api, target: Target, version: int | None):
    path, body = target.path, dict(target.body)
    if target.method == "delete":
        path += f"?version={version}" if version is not None else ""
        return api.delete(path)
    if version is not None:
        body["version"] = version
    return api.call(target.method, path, body)


def current_version(record: models.Model) -> int:
    return type(record)._default_manager.values_list("version", flat=True).get(pk=record.pk)


@pytest.fixture
def build(org, shop):  # noqa: F811 - the catalogue fixture, used by the quote writes
    def make(write: Write) -> Target:
        return write.build(org, shop)

    return make


@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.name)
def test_a_change_without_its_version_is_refused_with_428(org, api_as, build, write):  # noqa: F811
    target = build(write)
    before = stored_rows(target)
    response = send(api_as(getattr(org, target.actor)), target, None)
    problem = assert_problem(response, 428, "version")
    assert problem["title"] == "Version required"
    assert stored_rows(target) == before


@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.name)
def test_a_change_from_a_stale_read_is_refused_with_409(org, api_as, build, write):  # noqa: F811
    target = build(write)
    read = current_version(target.versioned)
    # Someone else changes the record after our read.
    type(target.versioned)._default_manager.filter(pk=target.versioned.pk).update(
        version=F("version") + 1)
    before = stored_rows(target)
    response = send(api_as(getattr(org, target.actor)), target, read)
    problem = assert_problem(response, 409)
    assert problem["current_version"] == read + 1
    assert "changed by someone else" in problem["detail"]
    assert stored_rows(target) == before


@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.name)
def test_the_same_change_with_the_current_version_is_made(org, api_as, build, write):  # noqa: F811
    target = build(write)
    read = current_version(target.versioned)
    response = send(api_as(getattr(org, target.actor)), target, read)
    assert 200 <= response.status_code < 300, response.content
    row = stored_row(target.versioned)
    assert row is None or row["version"] > read  # deleted, or moved on


@pytest.mark.parametrize("value", [True, "3", 1.0, None, 0, -1])
def test_the_version_is_a_whole_number_not_a_boolean_or_text(org, api_as, value):  # noqa: F811
    deal = make_opportunity(org.west_rep)
    before = stored_row(deal)
    response = api_as(org.west_rep).patch(f"/opportunities/{deal.pk}",
                                          {"name": "Renamed", "version": value})
    assert_problem(response, 422, "version")
    assert stored_row(deal) == before
