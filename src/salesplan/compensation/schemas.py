"""The compensation API's request and response bodies (see api.py for the routes)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from ninja import Field, Schema

from salesplan.core.api_support import (
    InputSchema,
    MoneyOut,
    RecordId,
    Version,
    choice_of,
    patch_schema,
)
from salesplan.core.money import CURRENCY_CHOICES

from .models import ContestVisibility, CreditKind

Currency = Literal[tuple(code for code, _ in CURRENCY_CHOICES)]
Share = Decimal  # a fraction: 0.6 is 60 %
SignedMoneyIn = Field(..., ge=Decimal("-1e12"), le=Decimal("1e12"), max_digits=15,
                      decimal_places=2)


class CompPlanOut(Schema):
    id: int
    name: str
    role: str
    person_id: int | None
    starts: date
    ends: date
    effective_from: date
    number: int
    supersedes_id: int | None
    status: str
    currency: str
    base_salary: MoneyOut
    variable_target: MoneyOut
    version: int


class CompPlanDetailOut(CompPlanOut):
    definition: dict[str, Any]
    document: str


class CompPlanIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=120)
    role: Literal["", "rep", "manager"] = ""
    person_id: RecordId | None = None
    starts: date
    ends: date
    effective_from: date
    currency: Currency = "USD"
    base_salary: Decimal = Field(Decimal(0), ge=0, le=Decimal("1e12"), decimal_places=2)
    variable_target: Decimal = Field(Decimal(0), ge=0, le=Decimal("1e12"), decimal_places=2)
    definition: dict[str, Any] = Field(..., description="Components; see the plan guide.")
    document: str = Field("", max_length=100_000)
    supersedes_id: RecordId | None = None


CompPlanPatch = patch_schema(CompPlanIn, "CompPlanPatch", exclude=("supersedes_id",))


class VersionIn(InputSchema):
    version: Version


class AcceptanceOut(Schema):
    plan_id: int
    rep_id: int
    accepted_at: datetime
    document_digest: str


class CompPeriodOut(Schema):
    id: int
    name: str
    starts: date
    ends: date
    status: str
    closed_at: datetime | None
    version: int


class CompPeriodIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=40)
    starts: date
    ends: date


class CreditRuleOut(Schema):
    id: int
    name: str
    kind: str
    share: Decimal
    effective_from: date
    active: bool
    version: int


class CreditRuleIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=80)
    kind: choice_of(CreditKind)
    share: Decimal = Field(Decimal(1), ge=0, le=10, decimal_places=4)
    effective_from: date
    active: bool = True


CreditRulePatch = patch_schema(CreditRuleIn, "CreditRulePatch")


class TraceOut(Schema):
    deal_id: int
    rule: str
    share: str
    base: str
    rate: str | None
    earned: str


class CompLineOut(Schema):
    position: int
    kind: str
    component: str
    label: str
    amount: MoneyOut
    rule: str


class LineDetailOut(CompLineOut):
    trace: list[TraceOut]
    deal_ids: list[int]


class StatementOut(Schema):
    id: int
    rep_id: int
    period_id: int
    plan_id: int | None
    currency: str
    earned: MoneyOut
    paid: MoneyOut
    draw_balance: MoneyOut
    bookings: MoneyOut
    calculated_at: datetime


class StatementDetailOut(StatementOut):
    attainment: dict[str, str]
    next_tiers: list[dict[str, str]]
    lines: list[CompLineOut] = Field(..., alias="line_rows")


class StatementParams(Schema):
    period_id: int | None = Field(None, ge=1)
    rep_id: int | None = Field(None, ge=1)


class DisputeIn(InputSchema):
    text: str = Field(..., min_length=1, max_length=5000)


class DisputeAnswerIn(InputSchema):
    answer: str = Field(..., min_length=1, max_length=5000)
    version: Version


class DisputeResolveIn(InputSchema):
    resolution: str = Field(..., min_length=1, max_length=5000)
    version: Version


class DisputeOut(Schema):
    id: int
    statement_id: int
    line_position: int
    line_label: str
    line_amount: MoneyOut
    raised_by_id: int
    text: str
    status: str
    answer: str
    resolution: str
    resolved_by_id: int | None
    created_at: datetime
    version: int


class DisputeParams(Schema):
    status: Literal["", "open", "answered", "resolved"] = ""


class CompAdjustmentIn(InputSchema):
    rep_id: RecordId
    period_id: RecordId
    amount: Decimal = SignedMoneyIn
    reason: str = Field(..., min_length=1, max_length=200)


class CompAdjustmentOut(Schema):
    id: int
    rep_id: int
    period_id: int
    amount: MoneyOut
    reason: str


class SplitIn(Schema):
    rep_id: RecordId
    share: Decimal = Field(..., gt=0, le=1, decimal_places=4)


class SplitsIn(InputSchema):
    splits: list[SplitIn] = Field(..., max_length=20)


class SplitOut(Schema):
    rep_id: int
    share: Decimal


class WhatIfParams(Schema):
    plan_id: int = Field(..., ge=1)
    period_id: int = Field(..., ge=1)


class WhatIfRowOut(Schema):
    rep_id: int
    rep: str
    bookings: MoneyOut
    current: MoneyOut
    draft: MoneyOut
    change: MoneyOut


class CompWhatIfOut(Schema):
    plan_id: int
    period_id: int
    currency: str
    bookings: MoneyOut
    current_cost: MoneyOut
    draft_cost: MoneyOut
    current_cost_of_sales: Decimal | None
    draft_cost_of_sales: Decimal | None
    rows: list[WhatIfRowOut]


ScorePct = Field(..., ge=0, le=1000, max_digits=7, decimal_places=2,
                 description="Percent of the objective: 0–100, or up to its max_score.")


class MboScoreIn(InputSchema):
    rep_id: RecordId
    period_id: RecordId
    component: str = Field(..., min_length=1, max_length=40,
                           description="The MBO's key in the rep's plan.")
    score_pct: Decimal = ScorePct
    note: str = Field("", max_length=500)


class MboScorePatch(InputSchema):
    score_pct: Decimal = ScorePct
    note: str | None = Field(None, max_length=500)
    version: Version


class MboScoreOut(Schema):
    id: int
    rep_id: int
    period_id: int
    component: str
    score_pct: Decimal
    note: str
    scored_by_id: int | None
    updated_at: datetime
    version: int


class MboScoreParams(Schema):
    period_id: int | None = Field(None, ge=1)
    rep_id: int | None = Field(None, ge=1)


class AccrualMonthOut(Schema):
    month: date
    expected: MoneyOut
    low: MoneyOut
    high: MoneyOut
    open_deals: int


class AccrualRepOut(Schema):
    rep_id: int
    rep: str
    currency: str
    expected: MoneyOut
    low: MoneyOut
    high: MoneyOut
    months: list[AccrualMonthOut]


class AccrualTotalOut(Schema):
    currency: str
    expected: MoneyOut
    low: MoneyOut
    high: MoneyOut


class CompAccrualOut(Schema):
    as_of: date
    through: date
    method: str = Field(..., description="How the expected figure and its range were made.")
    totals: list[AccrualTotalOut]
    rows: list[AccrualRepOut]
    not_counted: dict[int, str] = Field(..., description="Reps left out, and why (rep id).")


ContestVisibilityIn = Literal[tuple(ContestVisibility.values)]


class ContestParams(Schema):
    team_id: int = Field(..., ge=1, description="The team whose contests to show.")


class ContestOut(Schema):
    key: str
    label: str
    starts: date
    ends: date
    status: str = Field(..., description="upcoming, running or ended")
    days_left: int = Field(..., description="Days still to run, today included.")


class ContestsOut(Schema):
    team_id: int
    enabled: bool = Field(..., description="Whether the team's manager turned standings on.")
    contests: list[ContestOut]


class StandingOut(Schema):
    rank: int
    rep_id: int
    rep: str
    currency: str
    deals: int = Field(..., description="Qualifying credit lines so far.")
    amount: MoneyOut | None = Field(..., description="Credited amount of the qualifying "
                                                     "deals (null: not yours to see).")
    payout: MoneyOut | None = Field(..., description="Payout so far (null: not yours "
                                                     "to see).")


class StandingsOut(ContestOut):
    team_id: int
    visibility: str = Field(..., description="What of the standings you see.")
    rows: list[StandingOut]


class ContestSettingOut(Schema):
    team_id: int
    enabled: bool
    visibility: str
    version: int


class ContestSettingIn(InputSchema):
    enabled: bool = True
    visibility: ContestVisibilityIn = "managers"
    version: int | None = Field(None, ge=0, description="The version you read; none for a "
                                                        "team's first setting.")
