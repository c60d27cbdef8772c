"""The discount approval matrix: which approvals a priced quote needs, and why.

A rule trips when any line goes past it: a discount above its threshold, a margin below
it, or (floor rules) a line under its floor price or its product's minimum margin.

The discount a rule limits is the rep's own extra discount on a line, on top of what the
pricing rules give: volume tiers, contracts and promotions are prices the company set, so
quoting them needs no one's approval. How deep the final price goes is still watched, by
the margin and floor rules, which read the line's price after every discount. The
tripped rules are grouped by (step, approver level); each group is one approval, decided
in step order. The reasons name the rule and the lines that tripped it, so the approver
sees what they approve and why.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from .models import ApprovalRule, ApproverLevel, RuleMetric

LEVEL_ORDER = {ApproverLevel.MANAGER: 0, ApproverLevel.DIRECTOR: 1, ApproverLevel.ADMIN: 2}


class PricedLineLike(Protocol):
    """What the matrix reads from a line (a stored QuoteLine or a LineView)."""

    @property
    def sku(self) -> str: ...
    @property
    def requested_discount_pct(self) -> Decimal: ...
    @property
    def margin_pct(self) -> Decimal | None: ...
    @property
    def below_floor(self) -> bool: ...
    @property
    def below_min_margin(self) -> bool: ...


@dataclass(frozen=True)
class RuleView:
    """A rule as the matrix evaluates it (detached from the database for speed)."""

    id: int
    name: str
    metric: str
    threshold_pct: Decimal
    approver: str
    step: int

    @classmethod
    def of(cls, rule: ApprovalRule) -> "RuleView":
        return cls(rule.pk, rule.name, rule.metric, Decimal(rule.threshold_pct), rule.approver,
                   rule.step)

    def describe(self) -> str:
        if self.metric == RuleMetric.DISCOUNT:
            return f"extra discount above {self.threshold_pct}%"
        if self.metric == RuleMetric.MARGIN:
            return f"margin below {self.threshold_pct}%"
        return "below the floor price or the minimum margin"


@dataclass
class RequiredApproval:
    step: int
    approver: str
    reasons: list[dict] = field(default_factory=list)

    @property
    def approver_label(self) -> str:
        return ApproverLevel(self.approver).label


def _trips(rule: RuleView, line: PricedLineLike) -> str | None:
    """Why the line trips the rule, or None."""
    if rule.metric == RuleMetric.DISCOUNT:
        if line.requested_discount_pct > rule.threshold_pct:
            return f"extra discount {Decimal(line.requested_discount_pct).normalize():f}%"
        return None
    if rule.metric == RuleMetric.MARGIN:
        if line.margin_pct is not None and line.margin_pct < rule.threshold_pct:
            return f"margin {line.margin_pct}%"
        return None
    if line.below_floor:
        return "below its floor price"
    if line.below_min_margin:
        return "below its minimum margin"
    return None


def required_approvals(lines: Sequence[PricedLineLike],
                       rules: Iterable[RuleView]) -> list[RequiredApproval]:
    """The approvals a quote with these lines needs, in the order they are decided."""
    groups: dict[tuple[int, str], RequiredApproval] = {}
    for rule in rules:
        tripped = []
        for index, line in enumerate(lines):
            why = _trips(rule, line)
            if why is not None:
                tripped.append({"line": index + 1, "sku": line.sku, "why": why})
        if not tripped:
            continue
        key = (rule.step, rule.approver)
        group = groups.setdefault(key, RequiredApproval(rule.step, rule.approver))
        group.reasons.append({"rule_id": rule.id, "rule": rule.name,
                              "condition": rule.describe(), "lines": tripped[:50],
                              "line_count": len(tripped)})
    return sorted(groups.values(),
                  key=lambda a: (a.step, LEVEL_ORDER.get(ApproverLevel(a.approver), 9)))


@dataclass(frozen=True)
class LineView:
    """What the matrix reads of a line the engine priced, with the rep's extra discount."""

    sku: str
    requested_discount_pct: Decimal
    margin_pct: Decimal | None
    below_floor: bool
    below_min_margin: bool


def approvals_for_priced(priced_lines: Sequence, requests: Sequence,
                         rules: Iterable[RuleView]) -> list[RequiredApproval]:
    """The approvals for lines straight from the engine (before they are stored), paired
    with the requests they were priced from."""
    views = [LineView(line.sku, Decimal(request.discount_pct), line.margin_pct,
                      line.below_floor, line.below_min_margin)
             for line, request in zip(priced_lines, requests, strict=True)]
    return required_approvals(views, rules)


def addressee(level: str, chain: Sequence):
    """Who signs a step at this level: the owner's manager, the manager above for a
    director's step; None (an administrator) for an admin's step or past the chain."""
    index = {ApproverLevel.MANAGER: 0, ApproverLevel.DIRECTOR: 1}.get(ApproverLevel(level))
    if index is None or index >= len(chain):
        return None
    return chain[index]


def active_rules() -> list[RuleView]:
    return [RuleView.of(r) for r in ApprovalRule.objects.filter(active=True)]
