"""MBO scores: a manager scores each objective (MBO) of their people's plans for a pay
period; the period's calculation pays the objective's target × the score.

Writes (`score_mbo`, `change_mbo_score`) check the registry, carry the version and name
the field at fault; reads are limited to the scores the user may see. A score is in
percent: 0–100, or up to the objective's `max_score` (1.5 allows 150 %)."""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from salesplan.core.audit import record_changes, record_created
from salesplan.core.permissions import require
from salesplan.core.records import claim_version
from salesplan.core.registry import ALL, NONE, OWN, scope_for
from salesplan.core.selectors import get_from
from salesplan.engines import compensation as engine
from salesplan.org.models import User

from . import calculation
from .definitions import plan_from_definition
from .models import CompPeriod, MboScore

HUNDRED = Decimal(100)


# --- reads ---------------------------------------------------------------------------------


def scores_for(rep_id: int, period: CompPeriod) -> dict[str, Decimal]:
    """The rep's scores of a period as the engine takes them (1 is 100 %)."""
    rows = MboScore.objects.filter(rep_id=rep_id, period=period)
    return {component: Decimal(pct) / HUNDRED
            for component, pct in rows.values_list("component", "score_pct")}


def scores_of(period: CompPeriod, reps: set[int]) -> dict[int, dict[str, Decimal]]:
    """`scores_for` of many reps in one query."""
    out: dict[int, dict[str, Decimal]] = {}
    rows = MboScore.objects.filter(period=period, rep_id__in=reps)
    for rep_id, component, pct in rows.values_list("rep_id", "component", "score_pct"):
        out.setdefault(rep_id, {})[component] = Decimal(pct) / HUNDRED
    return out


def scores(user) -> QuerySet[MboScore]:
    """The MBO scores the user may see: their own as a rep, their people's as a manager."""
    require(user, "comp_mbo_score", "view")
    scope = scope_for(user, "comp_mbo_score", "view")
    rows = MboScore.objects.select_related("rep", "period")
    if scope == NONE:
        return rows.none()
    if scope == OWN:
        return rows.filter(rep_id=user.pk)
    ids = None if scope == ALL else user.visible_owner_ids
    return rows if ids is None else rows.filter(rep_id__in=ids)


def get_score(user, pk) -> MboScore:
    return get_from(scores(user), pk, "MBO score")


@dataclass(frozen=True)
class ToScore:
    """One objective of one rep in a period, with its score when given."""

    rep: User
    mbo: engine.Mbo
    score: MboScore | None


def objectives_of(rep: User, period: CompPeriod) -> tuple[engine.Mbo, ...]:
    """The MBOs of the rep's plan in effect on the period's last day (none without plan)."""
    plan = calculation.plan_for(rep, period.ends)
    if plan is None:
        return ()
    return plan_from_definition(plan.definition, plan.currency).mbos


def to_score(user, period: CompPeriod) -> list[ToScore]:
    """Every objective the user may score in the period (their people, or everyone for
    an admin), with the score given so far."""
    people = User.objects.filter(is_active=True).exclude(pk=user.pk).order_by(
        "last_name", "first_name", "id")
    ids = user.visible_owner_ids
    if ids is not None:
        people = people.filter(pk__in=ids)
    given = {(s.rep_id, s.component): s
             for s in MboScore.objects.filter(period=period, rep__in=people)}
    rows = []
    for rep in people:
        for mbo in objectives_of(rep, period):
            rows.append(ToScore(rep, mbo, given.get((rep.pk, mbo.key))))
    return rows


# --- writes --------------------------------------------------------------------------------


def _checked_score(raw, mbo: engine.Mbo) -> Decimal:
    try:
        score = Decimal(str(raw))
    except InvalidOperation:
        raise ValidationError({"score_pct": f"{raw!r} is not a number."}) from None
    top = mbo.max_score * HUNDRED
    if not score.is_finite() or not Decimal(0) <= score <= top:
        raise ValidationError({"score_pct": f"Score {mbo.label} between 0 and "
                                            f"{top.normalize():f} %."})
    if score != score.quantize(Decimal("0.01")):
        raise ValidationError({"score_pct": "Give the score with at most two decimals."})
    return score


def _objective(rep: User, period: CompPeriod, component: str) -> engine.Mbo:
    if period.is_closed:
        raise ValidationError({"period_id": f"{period} is closed; its pay is locked."})
    mbos = {m.key: m for m in objectives_of(rep, period)}
    if component not in mbos:
        named = ", ".join(sorted(mbos)) or "none"
        raise ValidationError({"component": f"{rep} has no MBO {component!r} in {period} "
                                            f"(their plan's MBOs: {named})."})
    return mbos[component]


def _recalculate(rep: User, period: CompPeriod) -> None:
    from . import services  # services call this module's reads through the calculation

    try:
        services.recalculate(rep, period)
    except ValidationError:
        pass  # a missing rate or plan: the period's next full run says so


@transaction.atomic
def score_mbo(*, by, rep: User, period: CompPeriod, component: str, score_pct,
              note: str = "") -> MboScore:
    """The first score of one of a rep's MBOs in an open period; the statement follows."""
    candidate = MboScore(rep=rep, period=period, component=component)
    require(by, "comp_mbo_score", "score", candidate)
    mbo = _objective(rep, period, component)
    if MboScore.objects.filter(rep=rep, period=period, component=component).exists():
        raise ValidationError({"component": f"{mbo.label} is scored already for {period}; "
                                            "change that score with its version."})
    candidate.score_pct = _checked_score(score_pct, mbo)
    candidate.note, candidate.scored_by = note.strip()[:500], by
    candidate.save()
    record_created(candidate, by)
    _recalculate(rep, period)
    return candidate


@transaction.atomic
def change_mbo_score(score: MboScore, *, by, score_pct, note: str | None = None,
                     expected_version: int | None) -> MboScore:
    """A new score for an objective already scored (the version read must be current)."""
    require(by, "comp_mbo_score", "score", score)
    current = MboScore.objects.select_for_update().select_related("rep", "period").get(
        pk=score.pk)
    mbo = _objective(current.rep, current.period, current.component)
    value = _checked_score(score_pct, mbo)
    claim_version(current, expected_version)
    changes: dict[str, tuple] = {}
    if value != current.score_pct:
        changes["score_pct"] = (current.score_pct, value)
    if note is not None and note.strip() != current.note:
        changes["note"] = (current.note, note.strip()[:500])
    for name, (_, new) in changes.items():
        setattr(current, name, new)
    current.scored_by = by
    current.save()
    record_changes(current, changes, by)
    _recalculate(current.rep, current.period)
    return current
