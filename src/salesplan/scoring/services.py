"""Every write of lead scoring: rules, scores, trainings, and the jobs that run them."""

from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from salesplan.core.jobs import start_job
from salesplan.core.models import BackgroundJob
from salesplan.core.records import claim_version
from salesplan.core.registry import allowed, require
from salesplan.customers.models import Lead, LeadStatus
from salesplan.engines import lead_scoring as engine

from . import facts as lead_facts
from .models import LeadScore, ModelStatus, RuleKind, ScoringModel, ScoringRule

RULE_FIELDS = ("kind", "field", "operator", "value", "points", "label", "active")
MAX_POINTS = 1000


def can_manage(user) -> bool:
    """Marketing users and admins configure rules and train models."""
    return allowed(user, "scoring_rule", "manage")


def require_manage(user) -> None:
    require(user, "scoring_rule", "manage")


# --- Rules -------------------------------------------------------------------------------


def checked_rule(rule: ScoringRule) -> engine.Rule:
    """The rule as the engine evaluates it; ValidationError naming the wrong field."""
    errors: dict[str, str] = {}
    if rule.kind not in RuleKind.values:
        errors["kind"] = "Choose fit or engagement."
    fact = lead_facts.FACT_FIELDS.get(rule.field)
    if fact is None:
        errors["field"] = (f"“{rule.field}” is not a lead fact scoring knows; use one of: "
                           f"{', '.join(lead_facts.FACT_FIELDS)}.")
    elif rule.kind in RuleKind.values and fact.kind != rule.kind:
        errors["field"] = (f"{fact.label} is a {fact.kind} fact; choose it in a "
                           f"{fact.kind} rule.")
    if not isinstance(rule.points, int) or not -MAX_POINTS <= rule.points <= MAX_POINTS:
        errors["points"] = f"Points must be a whole number between -{MAX_POINTS} and {MAX_POINTS}."
    parsed: Any = None
    if fact is not None:
        try:
            parsed = engine.parse_rule_value(rule.operator, rule.value, numeric=fact.numeric)
        except engine.RuleError as exc:
            errors[exc.field] = str(exc)
    if errors:
        raise ValidationError(errors)
    return engine.Rule(kind=rule.kind, field=rule.field, operator=rule.operator, value=parsed,
                       points=rule.points, label=rule.label)


def _save_rule(rule: ScoringRule, data: dict) -> ScoringRule:
    unknown = set(data) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError({f: "This field cannot be set." for f in sorted(unknown)})
    for name, value in data.items():
        setattr(rule, name, value.strip() if isinstance(value, str) else value)
    checked_rule(rule)
    rule.full_clean(exclude=["created_by"])
    rule.save()
    return rule


@transaction.atomic
def create_rule(*, by, data: dict) -> ScoringRule:
    """A new scoring rule; scores change when leads are next scored."""
    require_manage(by)
    return _save_rule(ScoringRule(created_by=by), data)


@transaction.atomic
def update_rule(rule: ScoringRule, *, by, data: dict,
                expected_version: int | None = None) -> ScoringRule:
    require_manage(by)
    rule = ScoringRule.objects.select_for_update().get(pk=rule.pk)
    claim_version(rule, expected_version)
    return _save_rule(rule, data)


@transaction.atomic
def delete_rule(rule: ScoringRule, *, by, expected_version: int | None = None) -> None:
    require_manage(by)
    claim_version(rule, expected_version)
    rule.delete()


def active_rules() -> list[engine.Rule]:
    rules = []
    for rule in ScoringRule.objects.filter(active=True):
        try:
            rules.append(checked_rule(rule))
        except ValidationError:  # a fact that no longer exists: skip rather than fail
            continue
    return rules


# --- Scores --------------------------------------------------------------------------------


def current_model() -> ScoringModel | None:
    """The latest successful training, if any."""
    return ScoringModel.objects.filter(status=ModelStatus.TRAINED).order_by("-version").first()


def _scores_for(rows: Sequence[dict], rules: Sequence[engine.Rule],
                model: ScoringModel | None,
                parameters: engine.ScoringParameters | None) -> list[LeadScore]:
    now = timezone.now()
    predicted: list[tuple[float | None, list[dict]]] = (
        list(engine.score_rows(parameters, rows)) if parameters is not None and rows
        else [(None, [])] * len(rows))
    scores = []
    for row, (probability, why) in zip(rows, predicted, strict=True):
        by_rules = engine.score_by_rules(rules, row)
        for reason in why:
            reason["label"] = lead_facts.feature_label(reason["feature"], row)
        scores.append(LeadScore(
            lead_id=row["id"], fit=by_rules.fit, engagement=by_rules.engagement,
            total=by_rules.total, grade=engine.grade(by_rules.total), reasons=by_rules.reasons,
            probability=probability, predictive_reasons=why,
            model=model if probability is not None else None, computed_at=now))
    return scores


def _write(scores: list[LeadScore]) -> None:
    LeadScore.objects.bulk_create(
        scores, update_conflicts=True, unique_fields=["lead"],
        update_fields=["fit", "engagement", "total", "grade", "reasons", "probability",
                       "predictive_reasons", "model", "computed_at"])


def rescore_committed_lead(lead_id: int, **_event) -> None:
    """Keep a lead's score current after any committed change to it or its activity."""
    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is not None:
        rescore_lead(lead)


def rescore_lead(lead: Lead, *, by=None) -> LeadScore:
    """Score one lead now (call after the lead or its activity changes); `by`, when a
    person asks, must be allowed to rescore it."""
    if by is not None:
        require(by, "lead_score", "rescore", lead)
    model = current_model()
    parameters = engine.ScoringParameters.from_json(model.parameters) if model else None
    rows = lead_facts.lead_facts(Lead.objects.filter(pk=lead.pk))
    if not rows:
        raise ValidationError({"lead": "This lead no longer exists."})
    scores = _scores_for(rows, active_rules(), model, parameters)
    _write(scores)
    return LeadScore.objects.get(pk=lead.pk)


def rescore_all(leads: QuerySet[Lead] | None = None, *,
                progress: Callable[[int, int], None] = lambda done, total: None,
                batch_size: int = 5000) -> dict[str, int]:
    """Score every lead (or those given), a batch at a time, each batch in one write."""
    leads = Lead.objects.all() if leads is None else leads
    total = leads.count()
    rules = active_rules()
    model = current_model()
    parameters = engine.ScoringParameters.from_json(model.parameters) if model else None
    done = 0
    for rows in lead_facts.batches(leads, batch_size):
        with transaction.atomic():
            _write(_scores_for(rows, rules, model, parameters))
        done += len(rows)
        progress(done, total)
    return {"leads": done, "rules": len(rules), "model_version": model.version if model else 0}


# --- Training ---------------------------------------------------------------------------------

CONVERTED = (LeadStatus.CONVERTED,)
DISQUALIFIED = (LeadStatus.UNQUALIFIED,)


def default_min_per_class() -> int:
    return int(getattr(settings, "SALESPLAN_SCORING_MIN_PER_CLASS", 20))


def training_history(batch_size: int = 5000) -> tuple[list[dict], list[int]]:
    """Facts of every converted (1) and disqualified (0) lead, oldest first."""
    leads = Lead.objects.filter(status__in=[*CONVERTED, *DISQUALIFIED])
    rows: list[dict] = []
    for batch in lead_facts.batches(leads, batch_size):
        rows += batch
    rows.sort(key=lambda row: (row["created_at"], row["id"]))
    labels = [1 if row["status"] in CONVERTED else 0 for row in rows]
    return rows, labels


def _next_version() -> int:
    return (ScoringModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1


def _check_training_settings(minimum: int, test_fraction: float, split: str) -> None:
    if minimum < 5:
        raise ValidationError({"min_per_class": "At least 5 of each outcome are needed."})
    if not 0.05 <= test_fraction <= 0.5:
        raise ValidationError({"test_fraction": "The held-out share must be 0.05–0.5."})
    if split not in engine.SPLITS:
        raise ValidationError({"split": f"Use one of: {', '.join(engine.SPLITS)}."})


def train_model(*, by, min_per_class: int | None = None, test_fraction: float = 0.25,
                seed: int = 0, split: str = "stratified") -> ScoringModel:
    """Train on converted vs disqualified leads and measure on a held-out share.

    Too thin a history is not an error: the refusal is stored with its reason (the model
    page shows it) and the previous model, if any, stays in use."""
    require_manage(by)
    minimum = default_min_per_class() if min_per_class is None else min_per_class
    _check_training_settings(minimum, test_fraction, split)
    rows, labels = training_history()
    spec = engine.FeatureSpec(categorical=lead_facts.PREDICTIVE_CATEGORIES,
                              numeric=lead_facts.PREDICTIVE_NUMBERS)
    config = {"min_per_class": minimum, "test_fraction": test_fraction, "seed": seed,
              "split": split, "features": [*spec.categorical, *spec.numeric]}
    positives = sum(labels)
    counts = {"rows": len(rows), "converted": positives, "disqualified": len(rows) - positives}
    try:
        result = engine.train(rows, labels, spec, min_per_class=minimum,
                              test_fraction=test_fraction, seed=seed, split=split)
    except engine.ThinHistory as exc:
        with transaction.atomic():
            return ScoringModel.objects.create(
                version=_next_version(), status=ModelStatus.REFUSED, trained_at=timezone.now(),
                trained_by=by, reason=str(exc), settings=config, counts=counts)
    with transaction.atomic():
        return ScoringModel.objects.create(
            version=_next_version(), status=ModelStatus.TRAINED, trained_at=timezone.now(),
            trained_by=by, settings=config, counts=result.counts, metrics=result.metrics,
            calibration=result.calibration, parameters=result.parameters.to_json())


# --- Background jobs -----------------------------------------------------------------------


def start_rescore(*, by) -> BackgroundJob:
    """Score every lead in the background; progress on the job."""
    require_manage(by)
    from .tasks import run_rescore

    return start_job("lead_scoring", by=by, task=run_rescore)


def start_training(*, by, min_per_class: int | None = None, test_fraction: float = 0.25,
                   split: str = "stratified") -> BackgroundJob:
    """Train a model and then rescore every lead with it, in the background."""
    require_manage(by)
    minimum = default_min_per_class() if min_per_class is None else min_per_class
    _check_training_settings(minimum, test_fraction, split)
    from .tasks import run_training

    return start_job("lead_model_training", by=by, task=run_training,
                     params={"min_per_class": minimum, "test_fraction": test_fraction,
                             "split": split})
