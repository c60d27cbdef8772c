"""The lead scoring API's request and response bodies (see api.py for the routes)."""

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from salesplan.core.api_support import InputSchema, PageParams, Version, page_schema

from . import selectors
from .models import Grade, Operator, RuleKind


class FactOut(Schema):
    name: str
    label: str
    kind: str
    numeric: bool
    operators: list[str]


class ScoringRuleOut(Schema):
    id: int
    kind: str
    field: str
    operator: str
    value: str
    points: int
    label: str
    active: bool
    created_at: datetime
    version: int


class ScoringRuleIn(InputSchema):
    kind: Literal[tuple(RuleKind.values)]
    field: str = Field(..., max_length=40)
    operator: Literal[tuple(Operator.values)]
    value: str = Field("", max_length=500)
    points: int = Field(..., ge=-1000, le=1000)
    label: str = Field("", max_length=120)
    active: bool = True


class ScoringRulePatch(InputSchema):
    kind: Literal[tuple(RuleKind.values)] | None = None
    field: str | None = Field(None, max_length=40)
    operator: Literal[tuple(Operator.values)] | None = None
    value: str | None = Field(None, max_length=500)
    points: int | None = Field(None, ge=-1000, le=1000)
    label: str | None = Field(None, max_length=120)
    active: bool | None = None
    version: Version


class ReasonOut(Schema):
    kind: str
    rule: str
    points: int


class PredictiveReasonOut(Schema):
    feature: str
    label: str = ""
    effect: float = Field(..., description="Change in the log-odds of converting.")


class LeadScoreOut(Schema):
    lead_id: int
    lead_name: str
    company: str
    status: str
    owner_id: int
    fit: int
    engagement: int
    total: int
    grade: str
    reasons: list[ReasonOut]
    probability: float | None
    predictive_reasons: list[PredictiveReasonOut]
    model_version: int | None
    computed_at: datetime

    @staticmethod
    def resolve_lead_name(score) -> str:
        return score.lead.full_name

    @staticmethod
    def resolve_company(score) -> str:
        return score.lead.company

    @staticmethod
    def resolve_status(score) -> str:
        return score.lead.status

    @staticmethod
    def resolve_owner_id(score) -> int:
        return score.lead.owner_id

    @staticmethod
    def resolve_model_version(score) -> int | None:
        return score.model.version if score.model_id else None


LeadScorePage = page_schema(LeadScoreOut, "LeadScorePage")


class ScoreListParams(PageParams):
    sort: Literal["total", "probability"] = "total"
    grade: Literal[tuple(Grade.values)] | None = None
    open: bool = Field(False, description="Only leads not yet converted or disqualified.")


class TrainIn(InputSchema):
    min_per_class: int | None = Field(None, ge=5, le=100_000, description=(
        "Fewest converted and fewest disqualified leads to train on (default 20)."))
    test_fraction: float = Field(0.25, ge=0.05, le=0.5,
                                 description="Share of the history held out to measure.")
    split: Literal["stratified", "time"] = Field(
        "stratified", description="stratified: a random share with the same conversion "
        "rate; time: the newest leads, the model trained on the older ones.")


class CalibrationRow(Schema):
    decile: int
    rows: int
    low: float
    high: float
    predicted: float
    observed: float


class WeightOut(Schema):
    feature: str
    label: str
    coefficient: float
    odds_ratio: float


class ModelOut(Schema):
    id: int
    version: int
    status: str
    trained_at: datetime
    trained_by_id: int | None
    reason: str
    settings: dict[str, Any]
    counts: dict[str, int]
    metrics: dict[str, float]
    calibration: list[CalibrationRow]


class ModelDetailOut(ModelOut):
    intercept: float | None
    weights: list[WeightOut]

    @staticmethod
    def resolve_intercept(model) -> float | None:
        return (model.parameters or {}).get("intercept")

    @staticmethod
    def resolve_weights(model) -> list[dict]:
        return selectors.feature_weights(model, limit=1000)
