"""API of lead scoring (mounted at /api/v1/scoring).

    GET        /facts                     the lead facts rules can test, with operators
    GET/POST   /rules, PATCH/DELETE /rules/{id}      (marketing users and admins write)
    GET        /leads                     scores of the leads you may see, best first
    GET        /leads/{id}                one lead's score with its reasons
    POST       /leads/{id}/rescore        score one lead now
    POST       /rescore                   score every lead in the background (202, a job)
    POST       /models/train              train the predictive model (202, a job)
    GET        /models, /models/current, /models/{id}   trainings and held-out measures
    GET        /jobs/{id}                 deprecated: the job at /api/v1/jobs/{id}
"""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema, Status

from salesplan.core.api_support import InputSchema, PageParams, RecordId, Version, VersionParam
from salesplan.core.errors import NotFound
from salesplan.core.jobs_api import ACCEPTED, accepted, add_deprecated_alias
from salesplan.core.listing import keyset_page
from salesplan.engines.lead_scoring import NUMBER_OPERATORS, TEXT_OPERATORS

from . import selectors, services
from .facts import FACT_FIELDS
from .models import Grade, Operator, RuleKind, ScoringRule

router = Router(tags=["scoring"])

JOB_KINDS = ("lead_scoring", "lead_model_training")


class FactOut(Schema):
    name: str
    label: str
    kind: str
    numeric: bool
    operators: list[str]


@router.get("/facts", response=list[FactOut])
def list_scoring_facts(request):
    """What a rule can test about a lead, and the operators each fact takes."""
    return [{"name": f.name, "label": f.label, "kind": f.kind, "numeric": f.numeric,
             "operators": list(NUMBER_OPERATORS if f.numeric else TEXT_OPERATORS)}
            for f in FACT_FIELDS.values()]


# --- Rules -------------------------------------------------------------------------------


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


def _rule(pk: int) -> ScoringRule:
    found = ScoringRule.objects.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No scoring rule with id {pk}.")
    return found


@router.get("/rules", response=list[ScoringRuleOut])
def list_scoring_rules(request):
    """Every scoring rule (anyone signed in may read why leads score as they do)."""
    return list(ScoringRule.objects.all())


@router.post("/rules", response={201: ScoringRuleOut})
def create_scoring_rule(request, payload: ScoringRuleIn):
    """A fit or engagement rule; errors name the field (field, operator, value, points)."""
    return Status(201, services.create_rule(by=request.auth, data=payload.model_dump()))


@router.patch("/rules/{int:id}", response=ScoringRuleOut)
def update_scoring_rule(request, id: int, payload: ScoringRulePatch):
    data = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    version = data.pop("version")
    return services.update_rule(_rule(id), by=request.auth, data=data, expected_version=version)


@router.delete("/rules/{int:id}", response={204: None})
def delete_scoring_rule(request, id: int, version: VersionParam):
    services.delete_rule(_rule(id), by=request.auth, expected_version=version)
    return Status(204, None)


# --- Scores --------------------------------------------------------------------------------


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


class LeadScorePage(Schema):
    items: list[LeadScoreOut]
    next_cursor: str | None = None
    previous_cursor: str | None = None


class ScoreListParams(PageParams):
    sort: Literal["total", "probability"] = "total"
    grade: Literal[tuple(Grade.values)] | None = None
    open: bool = Field(False, description="Only leads not yet converted or disqualified.")


@router.get("/leads", response=LeadScorePage)
def list_lead_scores(request, params: Query[ScoreListParams]):
    """Scores of the leads you may see, best first, one cursor page at a time."""
    scores = selectors.scored_leads(request.auth, sort=params.sort, grade=params.grade or "",
                                    open_only=params.open).select_related("model")
    page = keyset_page(scores, sort_field=selectors.SORTS[params.sort], sort_key=params.sort,
                       cursor=params.cursor, limit=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "previous_cursor": page.previous_cursor}


@router.get("/leads/{int:id}", response=LeadScoreOut)
def get_lead_score(request, id: int):
    """One lead's score and the reasons for it."""
    lead, score = selectors.lead_score(request.auth, id)
    if score is None:
        raise NotFound(f"Lead {id} has not been scored yet; POST to its rescore address.")
    return score


@router.post("/leads/{int:id}/rescore", response=LeadScoreOut)
def rescore_lead(request, id: int):
    """Score one lead you may see now, with the current rules and model."""
    lead, _ = selectors.lead_score(request.auth, id)
    return services.rescore_lead(lead, by=request.auth)


@router.post("/rescore", **ACCEPTED)
def rescore_all_leads(request, response: HttpResponse):
    """Score every lead in the background; follow the job at its `Location`,
    /api/v1/jobs/{id}."""
    return accepted(response, services.start_rescore(by=request.auth))


add_deprecated_alias(router, "/jobs/{int:job_id}", kinds=JOB_KINDS, what="scoring job",
                     operation_id="scoring_job")


# --- Models ----------------------------------------------------------------------------------


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


@router.post("/models/train", **ACCEPTED)
def train_scoring_model(request, response: HttpResponse, payload: TrainIn):
    """Train on converted vs disqualified leads, measure on the held-out share, then
    rescore every lead. Too thin a history is refused and the job says why."""
    job = services.start_training(by=request.auth, min_per_class=payload.min_per_class,
                                  test_fraction=payload.test_fraction, split=payload.split)
    return accepted(response, job)


@router.get("/models", response=list[ModelOut])
def list_scoring_models(request):
    """Every training, newest first, with held-out AUC, Brier score and log loss."""
    return list(selectors.models_list()[:100])


@router.get("/models/current", response=ModelDetailOut)
def current_scoring_model(request):
    """The model scores come from: the latest successful training."""
    model = selectors.current_model()
    if model is None:
        latest = selectors.latest_model()
        raise NotFound(latest.reason if latest is not None and latest.reason
                       else "No predictive model has been trained yet.")
    return model


@router.get("/models/{int:id}", response=ModelDetailOut)
def get_scoring_model(request, id: RecordId):
    return selectors.get_model(id)
