"""Reads of lead scores, restricted to the leads the user may see."""

from django.db.models import QuerySet

from salesplan.core.errors import NotFound
from salesplan.core.registry import require
from salesplan.core.selectors import get_visible
from salesplan.customers.models import Lead

from .facts import feature_label
from .models import LeadScore, ModelStatus, ScoringModel, ScoringRule

SORTS = {"total": "-total", "probability": "-probability"}


def rules(user) -> QuerySet[ScoringRule]:
    """Every scoring rule: whoever may read them sees why leads score as they do."""
    require(user, "scoring_rule", "view")
    return ScoringRule.objects.all()


def scored_leads(user, *, sort: str = "total", grade: str = "",
                 open_only: bool = False) -> QuerySet[LeadScore]:
    """Scores of the leads the user may see, best first."""
    leads = Lead.objects.visible_to(user)
    if open_only:
        leads = leads.exclude(status__in=["converted", "unqualified"])
    scores = (LeadScore.objects.filter(lead__in=leads.values("pk"))
              .select_related("lead", "lead__owner"))
    if grade:
        scores = scores.filter(grade=grade)
    if sort == "probability":
        scores = scores.filter(probability__isnull=False)
    return scores


def lead_score(user, lead_pk: int) -> tuple[Lead, LeadScore | None]:
    """The lead (if the user may see it) and its score, if it has been scored."""
    lead = get_visible(Lead, user, lead_pk)
    return lead, (LeadScore.objects.filter(lead=lead).select_related("model")
                  .defer("model__parameters").first())


def models_list() -> QuerySet[ScoringModel]:
    return ScoringModel.objects.select_related("trained_by").defer("parameters")


def get_model(pk: int) -> ScoringModel:
    found = ScoringModel.objects.filter(pk=pk).select_related("trained_by").first()
    if found is None:
        raise NotFound(f"No scoring model with id {pk}.")
    return found


def latest_model() -> ScoringModel | None:
    """The latest training, refused or not (the model page shows why it was refused)."""
    return ScoringModel.objects.select_related("trained_by").order_by("-version").first()


def current_model() -> ScoringModel | None:
    return (ScoringModel.objects.filter(status=ModelStatus.TRAINED)
            .select_related("trained_by").order_by("-version").first())


def feature_weights(model: ScoringModel, limit: int = 15) -> list[dict]:
    """The model's largest coefficients: what raises or lowers the odds of converting."""
    params = model.parameters or {}
    pairs = list(zip(params.get("features", []), params.get("coefficients", []), strict=False))
    pairs.sort(key=lambda p: -abs(p[1]))
    return [{"feature": f, "label": feature_label(f), "coefficient": c,
             "odds_ratio": _odds(c)} for f, c in pairs[:limit]]


def _odds(coefficient: float) -> float:
    import math

    return math.exp(max(-30.0, min(30.0, coefficient)))
