"""Request and response bodies of the territories API (`api.py`)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema

from salesplan.core.api_support import InputSchema, MoneyOut, RecordId, Version, choice_of
from salesplan.core.jobs_api import JobOut

from . import goals
from .models import GoalFormula, MemberRole, Realignment, RuleCombine, TerritoryType


class AlignmentOut(Schema):
    id: int
    name: str
    description: str
    status: str
    based_on_id: int | None
    activated_at: datetime | None
    activated_by_id: int | None
    results_current: bool
    assigned_at: datetime | None
    conflict_count: int
    unclaimed_count: int
    created_at: datetime
    version: int


class AlignmentIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=120)
    description: str = ""
    copy_from_id: RecordId | None = Field(None, description="Copy this alignment's map.")


class AlignmentPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=120)
    description: str | None = None
    version: Version


class OptimiseIn(InputSchema):
    territory_ids: list[RecordId] = Field(
        default_factory=list, description="Territories to rebalance (one type, no "
                                          "sub-territories); or give parent_id.")
    parent_id: RecordId | None = Field(None, description="Rebalance this territory's "
                                                         "children.")
    unit: Literal["account", "zip"] = "account"
    measures: list[Literal["accounts", "potential", "pipeline", "workload",
                           "visit_days"]] = Field(
        ["accounts"], min_length=1)
    tau: float = Field(0.05, description="Allowed deviation from the mean, e.g. 0.05 = ±5%.")
    objective: Literal["squared", "distance"] = "squared"
    locked: list[str] = Field(default_factory=list, description="Account ids (or ZIP codes "
                                                                "at ZIP level) that stay put.")
    min_keep_share: float | None = None
    move_penalty: float = 0.0
    time_limit: float = Field(30.0, description="Seconds the optimiser may take.")
    name: str = Field("", max_length=120, description="Name of the new draft.")
    contiguous: bool = Field(False, description="Keep each territory one piece of "
                             "neighbouring units (neighbours by triangulation of their points).")


class OptimisationOut(Schema):
    id: int
    source_id: int | None
    draft_id: int | None
    options: dict
    metrics: dict
    message: str
    job: JobOut | None
    created_at: datetime


class ActivateIn(InputSchema):
    ownership: choice_of(Realignment.Ownership) = Field(
        "stay", description="stay: owners keep moved accounts and open deals until closed; "
                            "move: they go to the new territory's owner.")
    version: Version


class RealignmentOut(Schema):
    id: int
    alignment_id: int
    previous_id: int | None
    ownership: str
    changed_at: datetime
    changed_by_id: int | None
    accounts_moved: int
    owners_changed: int


class MoveOut(Schema):
    type: str
    from_territory: str | None = Field(None, alias="from")
    to_territory: str | None = Field(None, alias="to")
    accounts: int
    potential: MoneyOut
    open_pipeline: MoneyOut | None
    bookings: MoneyOut | None = Field(None, description="Won in the last twelve months.")


class BalanceOut(Schema):
    territory: str
    accounts_before: int
    accounts_after: int
    potential_before: MoneyOut
    potential_after: MoneyOut
    workload_before: int = Field(description="Activities in the last twelve months.")
    workload_after: int
    goal_before: MoneyOut | None = Field(None, description="Goal for the period covering "
                                                           "today.")
    goal_after: MoneyOut | None = None


class SampleOut(Schema):
    account_id: int
    account: str
    type: str
    from_territory: str | None = Field(None, alias="from")
    to_territory: str | None = Field(None, alias="to")
    potential: MoneyOut | None


class WhatIfOut(Schema):
    moved_accounts: int
    moves: list[MoveOut]
    sample: list[SampleOut]
    balance: list[BalanceOut]


class ConflictOut(Schema):
    account_id: int
    type: str
    territory_ids: list[int]


class ConflictPage(Schema):
    items: list[ConflictOut]
    next_cursor: str | None
    previous_cursor: str | None


class TerritoryOut(Schema):
    id: int
    alignment_id: int
    parent_id: int | None
    name: str
    type: str
    priority: int
    description: str
    area_sq_km: Decimal | None
    version: int


class TerritoryPage(Schema):
    items: list[TerritoryOut]
    next_cursor: str | None
    previous_cursor: str | None


class TerritoryIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=120)
    parent_id: RecordId | None = None
    type: choice_of(TerritoryType) = "geographic"
    priority: int = Field(0, ge=-1_000_000, le=1_000_000,
                          description="Higher wins when territories overlap.")
    description: str = ""
    area_sq_km: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=1)


class TerritoryPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=120)
    parent_id: RecordId | None = None
    type: choice_of(TerritoryType) | None = None
    priority: int | None = Field(None, ge=-1_000_000, le=1_000_000)
    description: str | None = None
    area_sq_km: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=1)
    version: Version


class AssignedAccountOut(Schema):
    id: int
    account_id: int
    account_name: str
    type: str
    reason: str

    @staticmethod
    def resolve_account_name(row) -> str:
        return row.account.name


class AssignedPage(Schema):
    items: list[AssignedAccountOut]
    next_cursor: str | None
    previous_cursor: str | None


class TerritoryWorkloadOut(Schema):
    required_days: Decimal = Field(description="Selling days a month the territory's "
                                               "accounts need (visits × (duration + travel)).")
    available_days: Decimal = Field(description="Selling days its current members have in "
                                                "the next thirty days.")
    members: int
    load: Decimal | None = Field(None, description="Required ÷ available days.")
    source: str = Field(description="Where the workload figure comes from.")


class SizeOut(Schema):
    accounts: int
    accounts_by_tier: dict[str, int]
    potential: MoneyOut
    area_sq_km: Decimal | None
    bookings: MoneyOut
    selling_days: int
    sales_per_day: MoneyOut
    members: int
    capacity_calls: int
    workload: TerritoryWorkloadOut | None = Field(
        None, description="Workload in selling days (none without field visits).")


class ConditionIn(Schema):
    field: str = Field(..., description="country, state, county, postal_code, industry, tier, "
                                        "employees or annual_revenue")
    op: Literal["in", "prefix", "range", "between"] = "in"
    values: list[str | int | float | None] = Field(..., min_length=1, max_length=5000)


class TerritoryRuleIn(InputSchema):
    combine: choice_of(RuleCombine) = "all"
    conditions: list[ConditionIn] = Field(..., min_length=1, max_length=50)


class TerritoryRulePatch(InputSchema):
    combine: choice_of(RuleCombine) | None = None
    conditions: list[ConditionIn] | None = Field(None, min_length=1, max_length=50)
    version: Version


class TerritoryRuleOut(Schema):
    id: int
    territory_id: int
    position: int
    combine: str
    conditions: list[dict]
    version: int


class PreviewOut(Schema):
    accounts: int
    capped: bool


class TerritoryMemberOut(Schema):
    id: int
    territory_id: int
    user_id: int
    user_name: str
    role: str
    start_date: date
    end_date: date | None
    version: int

    @staticmethod
    def resolve_user_name(member) -> str:
        return member.user.get_full_name() or member.user.username


class MemberIn(InputSchema):
    user_id: RecordId
    role: choice_of(MemberRole) = "owner"
    start_date: date | None = Field(None, description="Default: today.")
    end_date: date | None = None


class MemberPatch(InputSchema):
    role: choice_of(MemberRole) | None = None
    start_date: date | None = None
    end_date: date | None = None
    version: Version


class NamedIn(InputSchema):
    account_id: RecordId
    include: bool = True


class NamedOut(Schema):
    id: int
    territory_id: int
    account_id: int
    include: bool
    version: int


class OverrideIn(Schema):
    territory_id: RecordId
    amount: Decimal = Field(..., ge=0, max_digits=18, decimal_places=2)
    reason: str = Field(..., min_length=1, max_length=500)


class GoalsIn(InputSchema):
    period_start: date
    period_end: date
    formula: choice_of(GoalFormula, exclude=("manual",))
    total: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=2,
                                  description="The parent's goal (needed for a share of "
                                              "potential; otherwise the children's sum).")
    growth: Decimal = Field(Decimal(0), ge=-1, le=100, description="0.10 for +10%.")
    overrides: list[OverrideIn] = []
    mix: dict[str, Decimal] = Field(
        default_factory=dict, description="For weighted_mix: formula -> weight, e.g. "
        '{"prior_bookings": 2, "share_of_potential": 1}.')
    calls_per_day: int = Field(6, ge=1, le=100, description="Achievable calls or meetings "
                               "per member per selling day (capacity_conversion).")


class GoalOut(Schema):
    id: int
    territory_id: int
    territory_name: str
    period_start: date
    period_end: date
    formula: str
    explanation: str
    proposed: MoneyOut
    amount: MoneyOut
    currency: str
    override_reason: str
    booked_to_date: MoneyOut = Field(description="Won in the goal's period up to today.")
    attainment_percent: Decimal | None
    expected_percent: Decimal | None = Field(
        description="Share of the period's selling days gone by: where attainment should be.")

    @staticmethod
    def resolve_territory_name(goal) -> str:
        return goal.territory.name

    @staticmethod
    def resolve_booked_to_date(goal) -> Decimal:
        return _attainment(goal).actual

    @staticmethod
    def resolve_attainment_percent(goal) -> Decimal | None:
        return _attainment(goal).percent

    @staticmethod
    def resolve_expected_percent(goal) -> Decimal | None:
        return _attainment(goal).expected_percent


def _attainment(goal) -> goals.Attainment:
    """Set on the whole list by selectors.goals_with_attainment; else worked out here."""
    if not hasattr(goal, "attainment"):
        goal.attainment = goals.attainment(goal)
    return goal.attainment


class ViolationOut(Schema):
    kind: str
    record_id: int
    name: str
    account_id: int
    owner_id: int
    territory_id: int
    territory_owner_id: int | None


class TerritoryFixIn(InputSchema):
    kind: Literal["account", "opportunity"]
    record_id: RecordId


class TerritoryFixOut(Schema):
    new_owner_id: int


class ExceptionOut(Schema):
    id: int
    rep_id: int
    account_id: int
    reason: str
    until: date
    status: str
    requested_by_id: int | None
    approved_by_id: int | None
    decided_at: datetime | None
    decision_note: str
    version: int


class ExceptionIn(InputSchema):
    account_id: RecordId
    reason: str = Field(..., min_length=1, max_length=500)
    until: date
    rep_id: RecordId | None = Field(None, description="Default: you.")


class DecisionIn(InputSchema):
    note: str = Field("", max_length=500)
    version: Version



class ActivationPreviewIn(InputSchema):
    ownership: choice_of(Realignment.Ownership) = Field(
        "stay", description="stay: owners keep moved accounts and open deals until closed; "
                            "move: they go to the new territory's owner.")


class ActivationApplyIn(ActivationPreviewIn):
    version: Version
    fingerprint: str = Field(min_length=1, max_length=200, description=(
        "The preview's `fingerprint`: if what it was drawn from changed, nothing is "
        "activated (409)."))


class TerritoryChangeOut(BalanceOut):
    accounts_change: int
    potential_change: MoneyOut


class RepChangeOut(Schema):
    rep_id: int
    rep: str
    gains: int = Field(description="Accounts that become theirs.")
    loses: int = Field(description="Accounts that stop being theirs.")
    change: int


class ActivationPreviewOut(Schema):
    """What activating a draft would change; nothing is written to draw it."""

    alignment_id: int
    previous_id: int | None
    ownership: str
    moved_accounts: int
    total_accounts: int
    share: Decimal = Field(description="moved_accounts / total_accounts, 0–1.")
    warnings: list[str]
    moves: list[MoveOut] = Field(description="Per (type, from, to); at most 200.")
    territories: list[TerritoryChangeOut]
    reps: list[RepChangeOut] = Field(description="With ownership 'move': who gains and "
                                                 "loses accounts.")
    fingerprint: str
