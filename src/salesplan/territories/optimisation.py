"""The territory optimiser in the product: from an alignment's territories to a new,
balanced draft alignment.

`start_optimisation` checks the request (a manager's or admin's; impossible requests are
refused before anything starts where that can be seen up front) and queues a background
job. The job (`run_optimisation`) reads the basic units from the source alignment's
assignment results (accounts, or ZIP codes aggregating them), runs the pure engine
(`salesplan.engines.alignment.optimise`) and writes the result as a NEW draft: a copy
of the source in which each optimised territory's boundary rules are replaced by
named-account inclusions (account level) or one exact postal-code rule (ZIP level), then
assigned, so the what-if comparison shows what moves. The source is only read.

Balance measures (the manager picks one or more): account count, potential, open
pipeline, workload (activities dated within the last year) and visit days (the selling
days a month each account's field visits take — visits × (duration + driving) — read
through `core.hooks.account_workload`, so a rep's days balance, not only their
accounts). Money becomes float for the engine only; stored totals are rounded for display.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Sum
from django.utils import timezone

from salesplan.activities.models import Activity
from salesplan.core import audit
from salesplan.core.hooks import account_workload
from salesplan.core.jobs import Progress, start_job
from salesplan.customers.models import Account
from salesplan.engines.alignment import (
    AlignmentInfeasible,
    AlignmentOptions,
    AlignmentProblem,
    AlignmentResult,
    WorkBudget,
    optimise,
)
from salesplan.engines.alignment.model import ProgressCallback
from salesplan.pipeline.models import Opportunity, StageKind

from .assignment import run_full_assignment
from .models import (
    AccountTerritory,
    Alignment,
    BoundaryRule,
    NamedAccount,
    OptimisationRun,
    Territory,
    TerritoryType,
    new_token,
)
from .services import create_alignment, require, require_manage

JOB_KIND = "territory_optimisation"
MEASURES = {
    "accounts": "Accounts",
    "potential": "Potential",
    "pipeline": "Open pipeline",
    "workload": "Workload (activities in the last year)",
    "visit_days": "Workload in visit days a month",
}
UNIT_LEVELS = {"account": "Accounts", "zip": "ZIP codes"}
OBJECTIVES = {"squared": "Squared distance (compact, Hess)", "distance": "Plain distance"}
MAX_TIME_LIMIT = 600.0
EARTH_RADIUS_KM = 6371.0


# --- the request --------------------------------------------------------------------------


@dataclass
class OptimisationRequest:
    """What the manager asks for; `check_request` validates it against the database."""

    territory_ids: list[int] = field(default_factory=list)
    parent_id: int | None = None
    unit: str = "account"
    measures: Sequence[str] = ("accounts",)
    tau: float = 0.05
    objective: str = "squared"
    locked: Sequence[str] = ()  # account ids (account level) or postal codes (ZIP level)
    min_keep_share: float | None = None
    move_penalty: float = 0.0
    time_limit: float = 30.0
    name: str = ""
    contiguous: bool = False  # each territory one piece of neighbouring units
    # The engine's work in steps instead of seconds (reproducible runs, tests): with a
    # budget the run ends when the budget is spent, however busy the machine; the time
    # limit is then not applied. Not offered on the API or the page.
    budget: WorkBudget | None = None


def chosen_territories(source: Alignment, request: OptimisationRequest) -> list[Territory]:
    """The territories to rebalance: the ones named, the children of a parent, or every
    leaf geographic territory of the alignment."""
    territories = Territory.objects.filter(alignment=source)
    if request.territory_ids:
        found = list(territories.filter(pk__in=request.territory_ids))
        missing = set(request.territory_ids) - {t.pk for t in found}
        if missing:
            raise ValidationError({"territories": f"Territories {sorted(missing)} are not in "
                                                  f"{source.name}."})
    elif request.parent_id is not None:
        parent = territories.filter(pk=request.parent_id).first()
        if parent is None:
            raise ValidationError({"parent": f"Territory {request.parent_id} is not in "
                                             f"{source.name}."})
        found = list(territories.filter(parent=parent))
        if not found:
            raise ValidationError({"parent": f"{parent.name} has no sub-territories to "
                                             "balance."})
    else:
        found = list(territories.filter(type=TerritoryType.GEOGRAPHIC, children__isnull=True))
    return sorted(found, key=lambda t: (t.name, t.pk))


def check_request(source: Alignment, request: OptimisationRequest) -> list[Territory]:
    """Every check that can be made before the job starts; ValidationError names the
    field. Returns the territories to rebalance."""
    errors: dict[str, str] = {}
    if source.status == Alignment.Status.ARCHIVED:
        errors["alignment"] = (f"{source.name} is archived; optimise the active alignment "
                               "or a draft.")
    elif not source.results_current:
        errors["alignment"] = (f"The assignment of {source.name} is out of date; run its "
                               "assignment first so the optimiser starts from today's map.")
    if request.unit not in UNIT_LEVELS:
        errors["unit"] = "Choose accounts or ZIP codes as the units."
    unknown = [m for m in request.measures if m not in MEASURES]
    if not request.measures or unknown:
        errors["measures"] = ("Choose at least one balance measure among "
                              + ", ".join(MEASURES) + ".")
    if not 0 < request.tau < 1:
        errors["tau"] = "The balance tolerance must be between 0 and 1 (e.g. 0.05 for ±5%)."
    if request.objective not in OBJECTIVES:
        errors["objective"] = "Choose squared or plain distance."
    if not 1 <= request.time_limit <= MAX_TIME_LIMIT:
        errors["time_limit"] = f"The time limit must be 1 to {MAX_TIME_LIMIT:.0f} seconds."
    if request.min_keep_share is not None and not 0 <= request.min_keep_share <= 1:
        errors["min_keep_share"] = "The share to keep must be between 0 and 1."
    if request.move_penalty < 0:
        errors["move_penalty"] = "The move penalty cannot be negative."
    if errors:
        raise ValidationError(errors)
    territories = chosen_territories(source, request)
    _check_territories(territories)
    _check_units(source, territories, request)
    return territories


def _check_territories(territories: list[Territory]) -> None:
    if len(territories) < 2:
        raise ValidationError({"territories": "Choose at least two territories to balance."})
    if len({t.type for t in territories}) > 1:
        raise ValidationError({"territories": "Choose territories of one type only."})
    with_children = Territory.objects.filter(parent__in=territories).values_list(
        "parent__name", flat=True).distinct()
    names = sorted(set(with_children))
    if names:
        raise ValidationError({"territories": "Only territories without sub-territories can "
                                              "be rebalanced; " + ", ".join(names[:5])
                                              + " have some."})


def _check_units(source: Alignment, territories: list[Territory],
                 request: OptimisationRequest) -> None:
    rows = AccountTerritory.objects.filter(alignment=source, territory__in=territories)
    if request.unit == "zip":
        units = rows.values("account__postal_code").distinct().count()
        what = "ZIP codes"
    else:
        units = rows.count()
        what = "accounts"
    if len(territories) > units:
        raise ValidationError({"territories": f"{len(territories)} territories cannot be "
                                              f"filled from only {units} {what}: choose fewer "
                                              f"territories (at most {units})."})
    _check_locked(rows, request)
    if not rows.filter(account__latitude__isnull=False,
                       account__longitude__isnull=False).exists():
        raise ValidationError({"territories": "None of the accounts in these territories has "
                                              "coordinates; the optimiser needs locations."})


def _check_locked(rows, request: OptimisationRequest) -> None:
    wanted = {str(x).strip().upper() for x in request.locked if str(x).strip()}
    if not wanted:
        return
    if request.unit == "zip":
        found = {(p or "").strip().upper() for p in rows.filter(
            account__postal_code__in=wanted).values_list("account__postal_code", flat=True)}
    else:
        ids = [int(x) for x in wanted if x.isdigit()]
        found = {str(a) for a in rows.filter(account_id__in=ids).values_list(
            "account_id", flat=True)}
    missing = sorted(wanted - found)
    if missing:
        raise ValidationError({"locked": f"{', '.join(missing[:10])} not among the units of "
                                         "these territories."})


# --- starting a run -------------------------------------------------------------------------


@transaction.atomic
def start_optimisation(source: Alignment, *, by,
                       request: OptimisationRequest) -> OptimisationRun:
    """Queue an optimisation of `source`'s territories; the result is a new draft."""
    from .tasks import run_optimisation

    require(by, "alignment", "optimise", source)
    territories = check_request(source, request)
    options = {
        "territory_ids": [t.pk for t in territories], "unit": request.unit,
        "measures": list(dict.fromkeys(request.measures)), "tau": request.tau,
        "objective": request.objective, "locked": [str(x) for x in request.locked],
        "min_keep_share": request.min_keep_share, "move_penalty": request.move_penalty,
        "time_limit": request.time_limit, "contiguous": request.contiguous,
        "name": request.name.strip() or f"{source.name} optimised",
    }
    if request.budget is not None:
        options["budget"] = asdict(request.budget)
    run = OptimisationRun.objects.create(source=source, created_by=by, options=options)
    # The job starts once this transaction commits, so the run row exists by then.
    run.job = start_job(JOB_KIND, by=by, task=run_optimisation, params={"run_id": run.pk})
    run.save(update_fields=["job", "updated_at"])
    audit.record_created(run, by)
    return run


# --- reading the units ----------------------------------------------------------------------


@dataclass
class Units:
    """The basic units with their measures; accounts[i] lists unit i's account ids."""

    keys: list[str]
    accounts: list[list[int]]
    coordinates: np.ndarray  # (n, 2) latitude, longitude
    weights: np.ndarray  # (n, len(MEASURES)) in MEASURES order
    current: np.ndarray  # (n,) index of the territory holding most of the unit
    locked: dict[int, int]
    without_coordinates: int


def _account_columns(source: Alignment, territory_ids: list[int]):
    """One streaming pass over the accounts of the territories, as plain tuples."""
    return (AccountTerritory.objects.filter(alignment=source, territory_id__in=territory_ids)
            .order_by("account_id")
            .values_list("account_id", "territory_id", "account__latitude",
                         "account__longitude", "account__postal_code", "account__potential")
            .iterator(chunk_size=20_000))


def _per_account(source: Alignment, territory_ids: list[int],
                 visit_days: bool = False) -> tuple[dict, dict, dict]:
    """Open pipeline, activities of the last year and (when asked) visit days a month,
    per account."""
    accounts = AccountTerritory.objects.filter(
        alignment=source, territory_id__in=territory_ids).values("account_id")
    pipeline = dict(Opportunity.objects.filter(status=StageKind.OPEN, account_id__in=accounts)
                    .order_by().values("account_id").annotate(total=Sum("amount"))
                    .values_list("account_id", "total"))
    since = timezone.now() - timedelta(days=365)
    workload = dict(Activity.objects.filter(account_id__in=accounts, due_at__gte=since)
                    .order_by().values("account_id").annotate(n=Count("id"))
                    .values_list("account_id", "n"))
    return pipeline, workload, (_visit_days(accounts) if visit_days else {})


def _visit_days(accounts) -> dict[int, float]:
    """Selling days a month each account's visits take; none without field visits."""
    provider = account_workload.provider()
    if provider is None:
        return {}
    ids = sorted(set(accounts.values_list("account_id", flat=True)))
    return {a: float(d) for a, d in provider.per_account(ids).days_per_month.items()}


def read_units(source: Alignment, territory_ids: list[int], unit: str,
               locked: Sequence[str], measures: Sequence[str] = ()) -> Units:
    """The units from the source's assignment results; units without coordinates get
    their territory's mean position and stay where they are (locked). Visit days are
    read only when `measures` asks for them."""
    index = {tid: i for i, tid in enumerate(territory_ids)}
    pipeline, workload, visit_days = _per_account(source, territory_ids,
                                                  "visit_days" in measures)
    keys: dict[str, int] = {}
    accounts: list[list[int]] = []
    sums: list[list[float]] = []
    votes: list[dict[int, int]] = []
    for account_id, tid, lat, lon, postal, potential in _account_columns(source, territory_ids):
        postal = (postal or "").strip().upper()
        key = postal if unit == "zip" and postal else f"account:{account_id}"
        i = keys.setdefault(key, len(keys))
        if i == len(accounts):
            accounts.append([])
            sums.append([0.0] * 8)
            votes.append({})
        accounts[i].append(account_id)
        row = sums[i]
        row[0] += 1
        row[1] += float(potential or 0)
        row[2] += float(pipeline.get(account_id) or 0)
        row[3] += workload.get(account_id, 0)
        row[4] += visit_days.get(account_id, 0.0)
        if lat is not None and lon is not None:
            row[5] += float(lat)
            row[6] += float(lon)
            row[7] += 1
        votes[i][index[tid]] = votes[i].get(index[tid], 0) + 1
    table = np.array(sums, dtype=float).reshape(-1, 8)
    current = np.array([_majority(v) for v in votes], dtype=np.int64)
    coordinates, missing = _positions(table, current, len(territory_ids))
    fixed = {int(u): int(current[u]) for u in np.flatnonzero(missing)}
    fixed.update(_locked_units(keys, locked, unit, current))
    names = list(keys)
    return Units(names, accounts, coordinates, table[:, :5], current, fixed, int(missing.sum()))


def _majority(votes: dict[int, int]) -> int:
    """The territory holding most of a unit's accounts (the first on a tie)."""
    return min(votes, key=lambda t: (-votes[t], t))


def _positions(table: np.ndarray, current: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    located = table[:, 7] > 0
    coordinates = np.zeros((len(table), 2))
    coordinates[located] = table[located, 5:7] / table[located, 7:8]
    fallback = coordinates[located].mean(axis=0) if located.any() else np.zeros(2)
    for t in range(k):
        mine = located & (current == t)
        centre = coordinates[mine].mean(axis=0) if mine.any() else fallback
        coordinates[~located & (current == t)] = centre
    return coordinates, ~located


def _locked_units(keys: dict[str, int], locked: Sequence[str], unit: str,
                  current: np.ndarray) -> dict[int, int]:
    fixed = {}
    for raw in locked:
        text = str(raw).strip().upper()
        key = text if unit == "zip" else f"account:{text}"
        if key not in keys and unit == "zip":
            key = f"account:{text}"
        if key not in keys:
            raise ValidationError({"locked": f"{raw} is not among the units of these "
                                             "territories."})
        fixed[keys[key]] = int(current[keys[key]])
    return fixed


# --- running --------------------------------------------------------------------------------


def _engine_progress(job) -> tuple[Progress, ProgressCallback]:
    """A progress callback for the engine writing whole percents, at most twice a second."""
    progress = Progress(job, total=100, every=1)
    last = [0.0, -1]

    def report(fraction: float, message: str) -> None:
        percent = min(95, int(fraction * 90) + 5)
        now = time.monotonic()
        if percent > last[1] and (now - last[0] >= 0.5 or fraction >= 1):
            last[0], last[1] = now, percent
            progress.advance_to(percent, f"Optimising: {message}")

    return progress, report


def neighbouring_units(lat_lon: np.ndarray) -> np.ndarray | None:
    """Pairs of neighbouring units: the edges of the Delaunay triangulation of their
    points (on a local equal-distance projection). No boundary files are needed, the
    graph is connected, and neighbours share a border in the sense that no other unit
    lies between them."""
    from scipy.spatial import Delaunay, QhullError

    if len(lat_lon) < 3:
        return np.array([[0, 1]]) if len(lat_lon) == 2 else None
    lat = np.radians(lat_lon[:, 0])
    xy = np.column_stack([lat_lon[:, 1] * np.cos(lat.mean()), lat_lon[:, 0]])
    # Units at the same point (ZIP codes of one building) need distinct points to be
    # triangulated; a deterministic nudge of a few metres keeps them neighbours.
    xy = xy + np.random.default_rng(0).normal(scale=1e-5, size=xy.shape)
    try:
        simplices = Delaunay(xy).simplices
    except QhullError:  # all on one line: neighbours along it
        order = np.argsort(xy[:, 0] + xy[:, 1])
        return np.column_stack([order[:-1], order[1:]])
    pairs = np.concatenate([simplices[:, [0, 1]], simplices[:, [1, 2]], simplices[:, [0, 2]]])
    return np.unique(np.sort(pairs, axis=1), axis=0)


def optimise_run(run: OptimisationRun, job) -> tuple[dict, str]:
    """The job's work: read, optimise, write the draft, assign it, record the metrics.

    Idempotent per run: the draft, its assignment and the run's record of it commit
    together, and a run that already has its draft answers with it. A broker delivering
    the job again after its worker was killed therefore never writes a second draft —
    whether the worker died while writing (nothing of it was kept) or after the draft
    was committed but before the job was marked finished."""
    if run.draft_id is not None:
        return _recorded_outcome(run)
    opts = run.options
    source = run.source
    if source is None:
        raise ValidationError({"alignment": "The source alignment no longer exists."})
    territory_ids = opts["territory_ids"]
    progress, report = _engine_progress(job)
    progress.advance_to(1, "Reading the accounts")
    units = read_units(source, territory_ids, opts["unit"], opts["locked"], opts["measures"])
    chosen = [list(MEASURES).index(m) for m in opts["measures"]]
    empty = [MEASURES[m] for m, j in zip(opts["measures"], chosen, strict=True)
             if units.weights[:, j].sum() <= 0]
    if empty:
        message = (f"Cannot balance on {', '.join(empty).lower()}: it is zero for every "
                   "account in these territories.")
        OptimisationRun.objects.filter(pk=run.pk).update(message=message)
        raise AlignmentInfeasible("weights", message)
    problem = AlignmentProblem(
        coordinates=units.coordinates, weights=units.weights[:, chosen], k=len(territory_ids),
        tau=opts["tau"], objective=opts["objective"],
        # Reps travel to accounts: compactness weighs each unit by its number of accounts.
        activity=units.weights[:, 0], locked=units.locked, current=units.current,
        min_keep_share=opts["min_keep_share"], move_penalty=opts["move_penalty"],
        adjacency=(neighbouring_units(units.coordinates) if opts.get("contiguous")
                   else None))
    try:
        result = optimise(problem, _engine_options(opts, report))
    except AlignmentInfeasible as exc:
        message = "Cannot be met: " + explain_refusal(exc, units, opts, territory_ids)
        OptimisationRun.objects.filter(pk=run.pk).update(
            message=message[:500], metrics={"fix": _fix(exc, opts)})
        raise AlignmentInfeasible(exc.constraint, message) from exc
    progress.advance_to(96, "Writing the draft alignment")
    with transaction.atomic():
        # Locked and read again: a delivery running beside this one waits here, then
        # finds the draft the other wrote.
        run = OptimisationRun.objects.select_for_update().get(pk=run.pk)
        if run.draft_id is not None:
            return _recorded_outcome(run)
        draft = write_draft(run, source, territory_ids, units, result.assignment)
        progress.advance_to(98, "Assigning the draft")
        run_full_assignment(draft)
        metrics = run_metrics(run, units, result, territory_ids, draft)
        metrics.update(_leaks(source, territory_ids, draft, metrics))
        within = "every territory within" if result.balanced else "NOT every territory within"
        message = (f"Draft {draft.name} created: {metrics['moved_accounts']} accounts move; "
                   f"{within} ±{opts['tau'] * 100:g}%; gap {result.gap:.2%}.")
        OptimisationRun.objects.filter(pk=run.pk).update(draft=draft, metrics=metrics,
                                                         message=message[:500])
    return {"run_id": run.pk, "draft_id": draft.pk, **_summary(metrics)}, message


def _recorded_outcome(run: OptimisationRun) -> tuple[dict, str]:
    """The job's result for a run whose draft an earlier delivery already wrote."""
    return ({"run_id": run.pk, "draft_id": run.draft_id, **_summary(run.metrics)},
            run.message)


def explain_refusal(exc: AlignmentInfeasible, units: Units, opts: dict,
                    territory_ids: list[int]) -> str:
    """The engine's reason and fix in the manager's words: measures by their labels,
    units as accounts (by name) or ZIP codes, territories by name."""
    words = {"accounts": "number of accounts", "workload": "workload",
             "visit_days": "workload in visit days"}
    measures = [words.get(m, MEASURES[m].lower()) for m in opts["measures"]]
    names = dict(Territory.objects.filter(pk__in=territory_ids).values_list("id", "name"))

    def unit_name(i: int) -> str:
        key = units.keys[i]
        if not key.startswith("account:"):
            return f"ZIP code {key}"
        account_id = int(key.removeprefix("account:"))
        name = Account.objects.filter(pk=account_id).values_list("name", flat=True).first()
        return f"account {name or account_id}"

    return exc.describe(
        measure_name=lambda m: measures[m] if m < len(measures) else f"measure {m + 1}",
        unit_name=unit_name,
        territory_name=lambda t: names.get(territory_ids[t], f"territory {t + 1}"))


def _fix(exc: AlignmentInfeasible, opts: dict) -> dict:
    """What the page offers to try again with: a tolerance in per cent, territory counts."""
    wider = exc.wider_tau
    return {"tau_pct": (round(100 * wider, 1) if wider is not None and wider < 0.99 else None),
            "territory_counts": list(exc.other_k), "territories": len(opts["territory_ids"])}


def _engine_options(opts: dict, report: ProgressCallback) -> AlignmentOptions:
    """The time limit the manager chose, or the stored work budget with no time limit."""
    if opts.get("budget"):
        return AlignmentOptions(time_limit=None, budget=WorkBudget(**opts["budget"]),
                                progress=report)
    return AlignmentOptions(time_limit=opts["time_limit"], progress=report)


def _leaks(source: Alignment, territory_ids: list[int], draft: Alignment,
           metrics: dict) -> dict:
    """Whether the draft's assignment honours the optimised units: accounts of the units
    that ended elsewhere (a higher-ranked territory claims them) and accounts from outside
    that the optimised territories now claim (a ZIP rule catching a neighbour's account
    in the same ZIP)."""
    optimised = [t["draft_id"] for t in metrics["territories"] if t["draft_id"]]
    ours = AccountTerritory.objects.filter(alignment=draft, territory_id__in=optimised)
    units = AccountTerritory.objects.filter(
        alignment=source, territory_id__in=territory_ids).values("account_id")
    total, kept = ours.count(), ours.filter(account_id__in=units).count()
    return {"accounts_lost": units.count() - kept, "accounts_captured": total - kept}


def _summary(metrics: dict) -> dict:
    return {k: metrics[k] for k in ("balanced", "gap", "moved_accounts", "seconds", "method",
                                    "status")}


# --- writing the draft -----------------------------------------------------------------------


@transaction.atomic
def write_draft(run: OptimisationRun, source: Alignment, territory_ids: list[int],
                units: Units, assignment: np.ndarray) -> Alignment:
    """A copy of the source whose optimised territories hold exactly their new units."""
    by = run.created_by
    draft = create_alignment(by=by, name=_free_name(run.options["name"]), copy_from=source,
                             description=f"Optimised from {source.name} (run {run.pk}).")
    names = dict(Territory.objects.filter(pk__in=territory_ids).values_list("id", "name"))
    copies = dict(Territory.objects.filter(alignment=draft, name__in=names.values())
                  .values_list("name", "id"))
    new_ids = [copies[names[tid]] for tid in territory_ids]
    BoundaryRule.objects.filter(territory_id__in=new_ids).delete()
    NamedAccount.objects.filter(territory_id__in=new_ids).delete()
    zips: dict[int, list[str]] = {tid: [] for tid in new_ids}
    named: list[NamedAccount] = []
    for u, t in enumerate(assignment.tolist()):
        key = units.keys[u]
        if key.startswith("account:"):
            named.extend(NamedAccount(territory_id=new_ids[t], account_id=a, include=True)
                         for a in units.accounts[u])
        else:
            zips[new_ids[t]].append(key)
    NamedAccount.objects.bulk_create(named, batch_size=5000)
    BoundaryRule.objects.bulk_create(
        BoundaryRule(territory_id=tid, position=1, combine="any",
                     conditions=[{"field": "postal_code", "op": "in", "values": sorted(codes)}])
        for tid, codes in zips.items() if codes)
    Alignment.objects.filter(pk=draft.pk).update(rules_version=F("rules_version") + 1,
                                                 rules_token=new_token())
    draft.refresh_from_db()
    return draft


def _free_name(name: str) -> str:
    base, n, candidate = name[:110], 1, name[:120]
    while Alignment.objects.filter(name=candidate).exists():
        n += 1
        candidate = f"{base} ({n})"
    return candidate


# --- metrics -----------------------------------------------------------------------------------


def _distances_km(coordinates: np.ndarray, centre: np.ndarray) -> np.ndarray:
    lat1, lon1 = np.radians(coordinates[:, 0]), np.radians(coordinates[:, 1])
    lat2, lon2 = math.radians(centre[0]), math.radians(centre[1])
    h = (np.sin((lat1 - lat2) / 2) ** 2
         + np.cos(lat1) * math.cos(lat2) * np.sin((lon1 - lon2) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def _compactness(units: Units, members: np.ndarray) -> float | None:
    """Mean distance (km) of the territory's accounts to their weighted centre."""
    weight = units.weights[members, 0]
    if not members.any() or weight.sum() == 0:
        return None
    points = units.coordinates[members]
    centre = (points * weight[:, None]).sum(axis=0) / weight.sum()
    return round(float((_distances_km(points, centre) * weight).sum() / weight.sum()), 1)


def run_metrics(run: OptimisationRun, units: Units, result: AlignmentResult,
                territory_ids: list[int], draft: Alignment) -> dict:
    """Per territory: each measure before and after against its target, deviation,
    compactness and contiguity; overall: balance, gap, moves and time."""
    opts = run.options
    names = dict(Territory.objects.filter(pk__in=territory_ids).values_list("id", "name"))
    copies = dict(Territory.objects.filter(alignment=draft).values_list("name", "id"))
    after, before = result.assignment, units.current
    means = units.weights.sum(axis=0) / len(territory_ids)
    moved = after != before
    rows = []
    for t, tid in enumerate(territory_ids):
        now, then = after == t, before == t
        measures = []
        for m in opts["measures"]:
            j = list(MEASURES).index(m)
            total, target = float(units.weights[now, j].sum()), float(means[j])
            measures.append({
                "measure": m, "label": MEASURES[m], "before": round(float(
                    units.weights[then, j].sum()), 2), "after": round(total, 2),
                "target": round(target, 2),
                "deviation": round(total / target - 1, 4) if target else 0.0,
                "deviation_pct": round(100 * (total / target - 1), 1) if target else 0.0,
                "within": bool(target == 0 or abs(total / target - 1) <= opts["tau"] + 1e-9),
            })
        rows.append({
            "source_id": tid, "draft_id": copies.get(names[tid]), "name": names[tid],
            "measures": measures,
            "compactness_before_km": _compactness(units, then),
            "compactness_after_km": _compactness(units, now),
            "contiguous": (None if result.contiguous is None
                           else bool(result.contiguous[t])),
            "accounts_in": int(units.weights[now & moved, 0].sum()),
            "accounts_out": int(units.weights[then & moved, 0].sum()),
        })
    return {
        "territories": rows, "measures": list(opts["measures"]), "tau": opts["tau"],
        "unit": opts["unit"], "units": len(units.keys), "objective": opts["objective"],
        "tau_pct": round(100 * opts["tau"], 2),
        "balanced": result.balanced, "gap": round(float(result.gap), 6),
        "gap_pct": round(100 * float(result.gap), 2),
        "objective_value": float(result.objective), "lower_bound": float(result.lower_bound),
        "method": result.method, "status": result.status, "iterations": result.iterations,
        "seconds": round(float(result.seconds), 2),
        "moved_units": int(moved.sum()), "moved_accounts": int(units.weights[moved, 0].sum()),
        "moved_pipeline": round(float(units.weights[moved, 2].sum()), 2),
        "kept_share": None if result.kept_share is None else round(float(result.kept_share), 4),
        "kept_pct": None if result.kept_share is None else round(
            100 * float(result.kept_share), 1),
        "contiguity_checked": result.contiguous is not None,
        "locked_units": len(units.locked), "without_coordinates": units.without_coordinates,
        "engine_messages": list(result.messages),
    }


# --- reading runs ---------------------------------------------------------------------------


def run_for(user, pk: int) -> OptimisationRun | None:
    """One optimisation run, for managers and admins only."""
    require_manage(user)
    return (OptimisationRun.objects.select_related("source", "draft", "job", "created_by")
            .filter(pk=pk).first())
