"""Admins' writes to the proposal settings: the discount approval matrix and the proposal
template (with its colours). Every change is audited."""

import re
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from salesplan.core import audit
from salesplan.core.records import claim_version

from . import access
from .models import ApprovalRule, ProposalTemplate, RuleMetric
from .pdf import check_template

RULE_FIELDS = {"name", "metric", "threshold_pct", "approver", "step", "active"}
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _validate_rule(rule: ApprovalRule) -> None:
    if rule.metric != RuleMetric.FLOOR and not (
            Decimal(0) <= Decimal(rule.threshold_pct) <= Decimal(100)):
        raise ValidationError({"threshold_pct": "Give a percentage from 0 to 100."})
    rule.full_clean()


@transaction.atomic
def create_rule(*, by, data: dict[str, Any]) -> ApprovalRule:
    """Add a row to the approval matrix."""
    access.require_admin(by, "the approval matrix")
    unknown = sorted(set(data) - RULE_FIELDS)
    if unknown:
        raise ValidationError({f: "This field does not exist or cannot be set." for f in unknown})
    rule = ApprovalRule(**data)
    _validate_rule(rule)
    rule.save()
    audit.record_created(rule, by)
    return rule


@transaction.atomic
def update_rule(rule: ApprovalRule, *, by, data: dict[str, Any],
                expected_version: int | None = None) -> dict:
    access.require_admin(by, "the approval matrix")
    unknown = sorted(set(data) - RULE_FIELDS)
    if unknown:
        raise ValidationError({f: "This field does not exist or cannot be set." for f in unknown})
    rule = ApprovalRule.objects.select_for_update().get(pk=rule.pk)
    claim_version(rule, expected_version)
    changes = {}
    for name, value in data.items():
        if getattr(rule, name) != value:
            changes[name] = (getattr(rule, name), value)
            setattr(rule, name, value)
    _validate_rule(rule)
    rule.save()
    audit.record_changes(rule, changes, by)
    return changes


@transaction.atomic
def delete_rule(rule: ApprovalRule, *, by, expected_version: int | None = None) -> None:
    access.require_admin(by, "the approval matrix")
    claim_version(rule, expected_version)
    audit.record_deleted(rule, by)
    rule.delete()


@transaction.atomic
def save_template(*, by, html: str, primary_colour: str | None = None,
                  accent_colour: str | None = None) -> ProposalTemplate:
    """Save the proposal template override (empty means the built-in one), once it has
    been rendered to a PDF without error."""
    access.require_admin(by, "the proposal template")
    errors = {}
    for name, value in (("primary_colour", primary_colour), ("accent_colour", accent_colour)):
        if value is not None and not COLOUR.match(value):
            errors[name] = ["Give a colour as #RRGGBB, e.g. #1f4e79."]
    if errors:
        raise ValidationError(errors)
    if html.strip():
        check_template(html)
    template = ProposalTemplate.objects.select_for_update().order_by("id").first() \
        or ProposalTemplate()
    changes = {}
    for name, value in (("html", html if html.strip() else ""),
                        ("primary_colour", primary_colour), ("accent_colour", accent_colour)):
        if value is not None and getattr(template, name) != value:
            changes[name] = (getattr(template, name)[:80], value[:80])
            setattr(template, name, value)
    template.updated_by = by
    template.save()
    audit.record_changes(template, changes, by)
    return template
