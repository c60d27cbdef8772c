"""API of lead scoring (mounted at /api/v1/scoring).

    GET        /facts                     the lead facts rules can test, with operators
    /rules                                the scoring rules, from the record kit: list,
                                          export, get; create, change, delete for
                                          marketing users and admins
    GET        /leads                     scores of the leads you may see, best first
    GET        /leads/{id}                one lead's score with its reasons
    POST       /leads/{id}/rescore        score one lead now
    POST       /rescore                   score every lead in the background (202, a job)
    POST       /models/train              train the predictive model (202, a job)
    GET        /models, /models/current, /models/{id}   trainings and held-out measures
    GET        /jobs/{id}                 deprecated: the job at /api/v1/jobs/{id}
"""

from typing import Any

from django.http import HttpResponse
from ninja import Query, Router

from salesplan.core.api_support import RecordId
from salesplan.core.errors import NotFound
from salesplan.core.jobs_api import ACCEPTED, accepted, add_deprecated_alias
from salesplan.core.listing import keyset_page
from salesplan.core.record_kit import Actions, RecordType, install
from salesplan.engines.lead_scoring import NUMBER_OPERATORS, TEXT_OPERATORS

from . import selectors, services
from .facts import FACT_FIELDS
from .models import ScoringRule
from .schemas import (
    FactOut,
    LeadScoreOut,
    LeadScorePage,
    ModelDetailOut,
    ModelOut,
    ScoreListParams,
    ScoringRuleIn,
    ScoringRuleOut,
    ScoringRulePatch,
    TrainIn,
)

router = Router(tags=["scoring"])

JOB_KINDS = ("lead_scoring", "lead_model_training")


@router.get("/facts", response=list[FactOut])
def list_scoring_facts(request):
    """What a rule can test about a lead, and the operators each fact takes."""
    return [{"name": f.name, "label": f.label, "kind": f.kind, "numeric": f.numeric,
             "operators": list(NUMBER_OPERATORS if f.numeric else TEXT_OPERATORS)}
            for f in FACT_FIELDS.values()]


def _sent_values(user, data: dict[str, Any]) -> dict[str, Any]:
    """A change leaves out what it does not set (null included)."""
    return {key: value for key, value in data.items() if value is not None}


# Anyone signed in reads why leads score as they do; marketing users and admins write.
scoring_rules = RecordType(
    name="scoring_rule", plural="scoring_rules", path="rules", resource="scoring_rule",
    actions=Actions(view="view", create="manage", change="manage", delete="manage"),
    model=ScoringRule, rows=selectors.rules, out=ScoringRuleOut, paged=False,
    audit=False,  # rules keep no audit trail; a score's reasons name the rules behind it
    create_in=ScoringRuleIn, create=services.create_rule,
    patch_in=ScoringRulePatch, update=services.update_rule, prepare=_sent_values,
    delete=services.delete_rule)

install(router, "/scoring", [scoring_rules])


# --- Scores --------------------------------------------------------------------------------


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
