"""Territory pages: the tree of an alignment, a territory's page, the rule editor, members,
violations, boundary exceptions, the what-if comparison and the map.

Thin: reads come from territories.selectors (and the visible-account querysets), every
write goes through territories.services; admins and managers edit, reps and executives
read.
"""

import colorsys
import json
from collections import Counter, defaultdict
from decimal import Decimal
from math import floor

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from salesplan.core.clock import company_today
from salesplan.core.errors import PreviewChanged, StaleVersion
from salesplan.core.listing import keyset_page
from salesplan.core.records import posted_version
from salesplan.core.registry import require
from salesplan.engines.territory_rules import FIELD_LABELS
from salesplan.ui.forms import add_service_errors

from . import activation, goals, selectors, services
from .forms import (
    OP_CHOICES,
    ActivateForm,
    AlignmentForm,
    ExceptionForm,
    GoalForm,
    MemberForm,
    NamedAccountForm,
    OptimiseForm,
    RuleForm,
    TerritoryForm,
    optimise_initial,
)
from .models import (
    Alignment,
    BoundaryException,
    BoundaryRule,
    NamedAccount,
    Territory,
    TerritoryMember,
)
from .optimisation import MEASURES, OptimisationRequest, run_for, start_optimisation
from .selectors import descendants

MAP_POINTS = 3000  # at most this many accounts are drawn; more are sampled evenly
# A territory's area on the map: the cells of this many degrees of longitude and latitude
# where it has most of the accounts (about 80 by 110 km across the lower 48).
CELL_DEGREES = 1.0


def _page(request, template: str, context: dict):
    context.setdefault("nav_section", "territories")
    context.setdefault("can_manage", services.can_manage(request.user))
    return render(request, template, context)


def _get(model, pk: int, user, related: tuple[str, ...] = ()):
    found = selectors.visible_record(model, pk, user, related)
    if found is None:
        raise Http404(f"No {model._meta.verbose_name} with id {pk}.")
    return found


def _tree_url(alignment: Alignment) -> str:
    return f"{reverse('web:territories:tree')}?alignment={alignment.pk}"


# --- the tree ---------------------------------------------------------------------------


@login_required
def tree(request):
    """Choose an alignment; see its hierarchy, status and recent activations."""
    alignments = selectors.alignments(request.user)
    chosen = None
    wanted = request.GET.get("alignment", "")
    if wanted.isdigit():
        chosen = next((a for a in alignments if a.pk == int(wanted)), None)
        if chosen is None:
            raise Http404("No such alignment.")
    chosen = chosen or selectors.active_alignment() or (alignments[0] if alignments else None)
    context: dict[str, object] = {"alignments": alignments, "alignment": chosen,
               "nodes": selectors.tree(chosen) if chosen else [],
               "activate_form": ActivateForm(),
               "realignments": selectors.recent_realignments(request.user)}
    if chosen:
        context["map"] = with_map_json(territory_map(request.user, chosen))
    return _page(request, "territories/tree.html", context)


@login_required
def alignment_create(request):
    require(request.user, "alignment", "create")
    form = AlignmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            alignment = services.create_alignment(
                by=request.user, name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                copy_from=form.cleaned_data["copy_from"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Draft {alignment.name} created.")
            return redirect(_tree_url(alignment))
    return _page(request, "web/form.html", {
        "form": form, "title": "New alignment", "cancel_url": reverse("web:territories:tree")})


@login_required
@require_POST
def alignment_assign(request, pk: int):
    """Start a full assignment run in the background and follow it on the job page."""
    alignment = _get(Alignment, pk, request.user)
    try:
        job = services.start_assignment(alignment, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_tree_url(alignment))
    return redirect("web:imports:job", job.pk)


@login_required
def activation_preview(request, pk: int):
    """What activating the draft would move, per territory and per rep; nothing is
    written. Its button confirms exactly this preview."""
    alignment = _get(Alignment, pk, request.user)
    form = ActivateForm(request.GET or None)
    ownership = form.cleaned_data["ownership"] if form.is_valid() else "stay"
    try:
        preview = activation.preview_activation(alignment, by=request.user,
                                                ownership=ownership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_tree_url(alignment))
    return _page(request, "territories/activation_preview.html", {
        "alignment": preview.alignment, "preview": preview})


@login_required
@require_POST
def alignment_activate(request, pk: int):
    """Confirm a previewed activation: a job does it, its page follows it."""
    alignment = _get(Alignment, pk, request.user)
    require(request.user, "alignment", "activate", alignment)
    form = ActivateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what happens to the ownership of moved accounts.")
        return redirect(_tree_url(alignment))
    try:
        job = activation.confirm_activation(
            alignment, by=request.user, ownership=form.cleaned_data["ownership"],
            version=posted_version(request.POST),
            fingerprint=request.POST.get("fingerprint", ""))
    except (PreviewChanged, StaleVersion) as exc:
        messages.error(request, str(exc))
        return redirect(_tree_url(alignment))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_tree_url(alignment))
    return redirect("web:imports:job", job.pk)


@login_required
def alignment_what_if(request, pk: int):
    """Draft versus active: the accounts that move and every territory's balance."""
    draft = _get(Alignment, pk, request.user)
    require(request.user, "alignment_comparison", "view")
    base = selectors.active_alignment()
    comparison, problem = None, ""
    if base is None or base.pk == draft.pk:
        problem = "There is no other active alignment to compare with."
    else:
        try:
            comparison = selectors.what_if(draft, base)
        except ValidationError as exc:
            problem = " ".join(exc.messages)
    if comparison:
        for row in comparison.balance:
            row["accounts_change"] = row["accounts_after"] - row["accounts_before"]
            row["potential_change"] = row["potential_after"] - row["potential_before"]
            row["workload_change"] = row["workload_after"] - row["workload_before"]
    return _page(request, "territories/what_if.html", {
        "alignment": draft, "base": base, "comparison": comparison, "problem": problem})


# --- the map ----------------------------------------------------------------------------


def _colour(index: int) -> str:
    """Distinct colours by walking the hue circle in golden-angle steps."""
    hue = (index * 0.381966) % 1.0
    r, g, b = colorsys.hls_to_rgb(hue, 0.45, 0.65)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


def territory_map(user, alignment: Alignment, territory_ids=None) -> dict:
    """Visible accounts with coordinates, coloured by (geographic) territory, and each
    territory's area as the grid cells where most of the accounts are its own; sampled
    evenly by id past MAP_POINTS. The browser projects them (Albers USA, Alaska and
    Hawaii as insets) over the state outlines (`territories/map.js`)."""
    points, total, step = selectors.map_points(user, alignment, territory_ids, most=MAP_POINTS)
    if not points:
        return {"points": [], "legend": [], "total": total}
    index: dict[int, int] = {}
    legend: list[dict] = []
    drawn = []
    cells: dict[tuple[int, int], Counter] = defaultdict(Counter)
    for lat, lon, tid, name in points:
        if tid not in index:
            index[tid] = len(legend)
            legend.append({"id": tid, "name": name, "colour": _colour(len(legend))})
        lat, lon = float(lat), float(lon)
        drawn.append([round(lon, 3), round(lat, 3), index[tid]])
        cells[(floor(lon / CELL_DEGREES), floor(lat / CELL_DEGREES))][index[tid]] += 1
    areas = [[x * CELL_DEGREES, y * CELL_DEGREES, CELL_DEGREES, counts.most_common(1)[0][0]]
             for (x, y), counts in sorted(cells.items())]
    return {"points": drawn, "cells": areas, "legend": legend, "total": total,
            "sampled": step > 1}


def with_map_json(figures: dict) -> dict:
    """The figures with `json`: what map.js draws (points, cells, territories' names and
    colours)."""
    figures["json"] = json.dumps({
        "points": figures.get("points", []), "cells": figures.get("cells", []),
        "territories": [{"name": t["name"], "colour": t["colour"]}
                        for t in figures.get("legend", [])]})
    return figures


# --- a territory ------------------------------------------------------------------------


def _describe(rule: BoundaryRule) -> str:
    """A rule in words, e.g. "postal code in the range 94000–94999; state is one of CA"."""
    ops = dict(OP_CHOICES)
    parts = []
    for c in rule.conditions:
        values = [("…" if v is None else str(v)) for v in c.get("values", [])]
        joined = "–".join(values) if c.get("op") in ("range", "between") else ", ".join(values)
        parts.append(f"{FIELD_LABELS.get(c.get('field'), c.get('field'))} "
                     f"{ops.get(c.get('op'), c.get('op'))} {joined}")
    return ("; " if rule.combine == "all" else " or ").join(parts)


def _goal_proposals(territory: Territory, form: GoalForm):
    if not territory.children.exists() or not form.is_valid():
        return [], ""
    data = form.cleaned_data
    try:
        return goals.propose_goals(
            territory, period_start=data["period_start"], period_end=data["period_end"],
            formula=data["formula"], total=data["total"],
            growth=data["growth"] or Decimal(0), mix=form.mix() or None,
            calls_per_day=data["calls_per_day"] or 6,
            overrides=goals.parse_overrides(form.data, territory.children.all())), ""
    except ValidationError as exc:
        return [], " ".join(exc.messages)


def _with_workload(territory: Territory, size, goal_rows, proposals) -> dict:
    """The territory's and each goal's and proposal's territory workload in selling
    days (read together: one reading of the accounts' workload), shown beside them."""
    found = goals.workloads([territory, *territory.children.all()])
    size.workload = found.get(territory.pk)
    for row in goal_rows:
        row.workload = found.get(row.territory_id)
    for proposal in proposals:
        proposal.workload = found.get(proposal.territory.pk)
    return found


@login_required
def territory_detail(request, pk: int):
    """Members, size and goals, its accounts you may see (paged), violations, map."""
    territory = _get(Territory, pk, request.user, related=("alignment", "parent"))
    ids = descendants([territory.pk], territory.alignment_id)
    assigned = selectors.assigned_accounts(request.user, ids)
    try:
        page = keyset_page(assigned, sort_field="id", sort_key="id",
                           cursor=request.GET.get("cursor"))
    except ValueError as exc:
        raise Http404("Bad page cursor.") from exc
    context = {"territory": territory, "page": page}
    if request.htmx and request.GET.get("cursor") is not None:
        return _page(request, "territories/territory.html#accounts", context)
    start, end = goals.default_window()
    goal_form = GoalForm(request.GET if "formula" in request.GET else None)
    proposals, goal_problem = _goal_proposals(territory, goal_form)
    size = goals.territory_size(territory, window_start=start, window_end=end,
                                with_workload=False)
    goal_rows = selectors.goals_with_attainment(territory, newest_first=True, limit=40)
    workload = _with_workload(territory, size, goal_rows, proposals)
    context.update({
        "ancestors": selectors.ancestors(territory),
        "children": selectors.children(territory),
        "members": selectors.members(territory),
        "current_member_ids": selectors.current_member_ids(territory),
        "member_form": MemberForm(),
        "named_form": NamedAccountForm(user=request.user, auto_id="named_%s"),
        "rules": [(rule, _describe(rule)) for rule in selectors.rules(territory)],
        "named": selectors.named_accounts(request.user, territory),
        "size": size, "window": (start, end), "goals": goal_rows,
        "workload_source": next((w.source for w in workload.values()), ""),
        "goal_form": goal_form, "proposals": proposals, "goal_problem": goal_problem,
        "violations": selectors.violation_rows(selectors.violations(
            request.user, limit=100, account_ids=assigned.values("account_id"))),
        "map": with_map_json(territory_map(request.user, territory.alignment, ids)),
    })
    return _page(request, "territories/territory.html", context)


def _territory_form_page(request, alignment: Alignment, territory: Territory | None):
    services.require_manage(request.user)
    initial = {}
    if territory is not None:
        initial = {f: getattr(territory, f) for f in
                   ("name", "type", "priority", "description", "area_sq_km")}
        initial["parent"] = territory.parent_id
    elif request.GET.get("parent", "").isdigit():
        initial["parent"] = int(request.GET["parent"])
    form = TerritoryForm(request.POST or None, initial=initial, alignment=alignment,
                         territory=territory)
    if request.method == "POST" and form.is_valid():
        try:
            if territory is None:
                territory = services.create_territory(alignment, by=request.user,
                                                      data=form.service_data())
            else:
                services.update_territory(territory, by=request.user, data=form.service_data(),
                                          expected_version=posted_version(request.POST))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Territory {territory.name} saved.")
            return redirect("web:territories:territory", territory.pk)
    title = f"Edit {territory.name}" if territory else f"New territory in {alignment.name}"
    cancel = (reverse("web:territories:territory", args=[territory.pk]) if territory
              else _tree_url(alignment))
    return _page(request, "web/form.html", {"form": form, "title": title,
                                            "cancel_url": cancel, "version_of": territory})


@login_required
def territory_create(request, alignment_pk: int):
    return _territory_form_page(request, _get(Alignment, alignment_pk, request.user), None)


@login_required
def territory_edit(request, pk: int):
    territory = _get(Territory, pk, request.user, related=("alignment",))
    return _territory_form_page(request, territory.alignment, territory)


@login_required
@require_POST
def territory_delete(request, pk: int):
    territory = _get(Territory, pk, request.user, related=("alignment",))
    try:
        services.delete_territory(territory, by=request.user,
                                  expected_version=posted_version(request.POST))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("web:territories:territory", territory.pk)
    messages.success(request, f"Territory {territory.name} deleted.")
    if request.htmx:
        return HttpResponseClientRedirect(_tree_url(territory.alignment))
    return redirect(_tree_url(territory.alignment))


@login_required
@require_POST
def territory_goals(request, pk: int):
    """Save the territory's goal and its children's, adding up exactly."""
    territory = _get(Territory, pk, request.user)
    services.require_manage(request.user)
    form = GoalForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            goals.set_goals(territory, by=request.user, period_start=data["period_start"],
                            period_end=data["period_end"], formula=data["formula"],
                            total=data["total"], growth=data["growth"] or Decimal(0),
                            mix=form.mix() or None, calls_per_day=data["calls_per_day"] or 6,
                            overrides=goals.parse_overrides(request.POST,
                                                            territory.children.all()))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Goals saved.")
    else:
        messages.error(request, form.problems())
    return redirect("web:territories:territory", territory.pk)


# --- rules ------------------------------------------------------------------------------


def _rule_page(request, territory: Territory, rule: BoundaryRule | None):
    services.require_manage(request.user)
    initial = {"combine": rule.combine} if rule else {}
    form = RuleForm(request.POST or None, initial=initial,
                    conditions=rule.conditions if rule else None)
    if request.method == "POST" and form.is_valid():
        combine, conditions = form.cleaned_data["combine"], form.cleaned_data["conditions"]
        try:
            if rule is None:
                services.create_rule(territory, by=request.user, combine=combine,
                                     conditions=conditions)
            else:
                services.update_rule(rule, by=request.user, combine=combine,
                                     conditions=conditions,
                                     expected_version=posted_version(request.POST))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Rule saved; the accounts it covers were re-assigned "
                                      f"in {territory.alignment.name}." if
                             territory.alignment.results_current else "Rule saved.")
            return redirect("web:territories:territory", territory.pk)
    return _page(request, "territories/rule_form.html", {
        "form": form, "territory": territory, "rule": rule,
        "title": f"Edit rule {rule.position} of {territory.name}" if rule
        else f"New rule for {territory.name}"})


@login_required
def rule_create(request, pk: int):
    return _rule_page(request, _get(Territory, pk, request.user, related=("alignment",)), None)


@login_required
def rule_edit(request, rule_pk: int):
    rule = _get(BoundaryRule, rule_pk, request.user, related=("territory__alignment",))
    return _rule_page(request, rule.territory, rule)


@login_required
@require_POST
def rule_delete(request, rule_pk: int):
    rule = _get(BoundaryRule, rule_pk, request.user, related=("territory",))
    try:
        services.delete_rule(rule, by=request.user,
                             expected_version=posted_version(request.POST))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Rule {rule.position} deleted.")
    return redirect("web:territories:territory", rule.territory_id)


@login_required
@require_POST
def rule_preview(request):
    """The rule editor's live count: how many accounts the rule as typed would cover."""
    services.require_manage(request.user)
    form = RuleForm(request.POST)
    count = capped = None
    if form.is_valid():
        count, capped = selectors.rule_coverage(form.cleaned_data["combine"],
                                                form.cleaned_data["conditions"])
    return render(request, "territories/_rule_count.html",
                  {"form": form, "count": count, "capped": capped})


# --- members ----------------------------------------------------------------------------


@login_required
@require_POST
def member_add(request, pk: int):
    territory = _get(Territory, pk, request.user, related=("alignment",))
    services.require_manage(request.user)
    form = MemberForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.add_member(territory, by=request.user, user=data["user"], role=data["role"],
                                start_date=data["start_date"], end_date=data["end_date"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"{data['user']} now works {territory.name}.")
    else:
        messages.error(request, "Choose a person and a role.")
    return redirect("web:territories:territory", territory.pk)


@login_required
@require_POST
def named_add(request, pk: int):
    """Put a named account into the territory, or keep it out, whatever the rules say."""
    territory = _get(Territory, pk, request.user, related=("alignment",))
    services.require_manage(request.user)
    form = NamedAccountForm(request.POST, user=request.user)
    account = None
    if form.is_valid():
        account = selectors.visible_account(request.user, form.cleaned_data["account"])
    if account is None:
        messages.error(request, "Choose one of the suggested accounts.")
        return redirect("web:territories:territory", territory.pk)
    try:
        services.set_named_account(territory, account, by=request.user,
                                   include=form.cleaned_data["include"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        verb = "now belongs to" if form.cleaned_data["include"] else "is kept out of"
        messages.success(request, f"{account.name} {verb} {territory.name}.")
    return redirect("web:territories:territory", territory.pk)


@login_required
@require_POST
def named_remove(request, named_pk: int):
    named = _get(NamedAccount, named_pk, request.user, related=("territory__alignment",))
    services.require_manage(request.user)
    try:
        services.remove_named_account(named, by=request.user,
                                      expected_version=posted_version(request.POST))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "The rules decide for that account again.")
    return redirect("web:territories:territory", named.territory_id)


@login_required
@require_POST
def member_end(request, member_pk: int):
    """End a membership today (one that has not started yet is removed)."""
    member = _get(TerritoryMember, member_pk, request.user, related=("territory__alignment",))
    today = company_today()
    version = posted_version(request.POST)
    try:
        if member.start_date >= today:
            services.remove_member(member, by=request.user, expected_version=version)
        else:
            services.update_member(member, by=request.user, data={"end_date": today},
                                   expected_version=version)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{member.user}'s membership of {member.territory} ended.")
    return redirect("web:territories:territory", member.territory_id)


# --- violations and exceptions ------------------------------------------------------------


@login_required
def violation_list(request):
    """Records whose owner breaks the boundaries, each with a one-step fix."""
    services.require_view(request.user)
    found = selectors.violations(request.user, limit=500)
    return _page(request, "territories/violations.html", {
        "violations": selectors.violation_rows(found), "limited": len(found) >= 500,
        "fix_kinds": (("account", "accounts", "account"),
                      ("opportunity", "opportunities", "deal")),
        "kinds_shown": {v.kind for v in found}})


@login_required
@require_POST
def violation_fix(request):
    services.require_manage(request.user)
    kind, record_id = request.POST.get("kind", ""), request.POST.get("record_id", "")
    if not record_id.isdigit():
        messages.error(request, "Choose a record to fix.")
        return redirect("web:territories:violations")
    try:
        owner = services.fix_violation(by=request.user, kind=kind, record_id=int(record_id))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"The {kind} now belongs to {owner}.")
    return redirect(request.POST.get("next") if _safe_next(request) else
                    reverse("web:territories:violations"))


def _safe_next(request) -> bool:
    target = request.POST.get("next", "")
    return target.startswith("/") and not target.startswith("//")


@login_required
def exception_list(request):
    """Boundary exceptions (reps see their own, managers their teams'); ask for one."""
    services.require_view(request.user)
    form = ExceptionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        account = selectors.visible_account(request.user, form.cleaned_data["account"])
        if account is None:
            form.add_error("account", "Choose one of the suggested accounts.")
        else:
            try:
                services.request_exception(by=request.user, account=account,
                                           reason=form.cleaned_data["reason"],
                                           until=form.cleaned_data["until"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Exception requested; your manager decides.")
                return redirect("web:territories:exceptions")
    status = request.GET.get("status", "")
    return _page(request, "territories/exceptions.html", {
        "exceptions": selectors.exceptions(request.user, status)[:200], "form": form,
        "status": status,        "statuses": BoundaryException.Status.choices})


@login_required
@require_POST
def exception_decide(request, exception_pk: int, decision: str):
    exception = _get(BoundaryException, exception_pk, request.user)
    decide = {"approve": services.approve_exception,
              "reject": services.reject_exception}.get(decision)
    if decide is None:
        raise Http404("Approve or reject.")
    try:
        decide(exception, by=request.user, note=request.POST.get("note", ""),
               expected_version=posted_version(request.POST))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Exception {decision}d.")
    return redirect("web:territories:exceptions")


# --- the optimiser ----------------------------------------------------------------------


def _optimise_request(form) -> OptimisationRequest:
    data = form.cleaned_data
    keep = data.get("keep_share")
    return OptimisationRequest(
        territory_ids=[t.pk for t in data["territories"]],
        parent_id=data["parent"].pk if data["parent"] else None, unit=data["unit"],
        measures=data["measures"], tau=float(data["tau"]) / 100,
        objective=data["objective"],
        locked=[x for x in data["locked"].replace(",", " ").split() if x],
        min_keep_share=float(keep) / 100 if keep is not None else None,
        move_penalty=data.get("move_penalty") or 0.0, time_limit=float(data["time_limit"]),
        name=data["name"], contiguous=bool(data.get("contiguous")))


def _retry_initial(request, alignment: Alignment) -> dict | None:
    """"Try again" from a run's page: the form as that run asked, with the fix offered
    (a wider tolerance) when the link carries one."""
    run_id = request.GET.get("from_run", "")
    run = run_for(request.user, int(run_id)) if run_id.isdigit() else None
    if run is None or run.source_id != alignment.pk:
        return None
    try:
        tau = float(request.GET["tau"]) if "tau" in request.GET else None
    except ValueError:
        tau = None
    return optimise_initial(run.options, tau_pct=tau)


@login_required
def alignment_optimise(request, pk: int):
    """Ask the optimiser to rebalance territories; the result becomes a new draft."""
    alignment = _get(Alignment, pk, request.user)
    services.require_manage(request.user)
    form = OptimiseForm(request.POST or None, alignment=alignment,
                        initial=_retry_initial(request, alignment))
    if request.method == "POST" and form.is_valid():
        try:
            run = start_optimisation(alignment, by=request.user,
                                     request=_optimise_request(form))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("web:territories:optimisation", run.pk)
    runs = selectors.optimisation_runs(alignment)
    return _page(request, "territories/optimise.html",
                 {"alignment": alignment, "form": form, "runs": runs})


def _same_colours(before: dict, after: dict) -> None:
    """Colour the after map's territories like the same-named ones before."""
    wanted = {item["name"]: item["colour"] for item in before.get("legend", [])}
    change = {item["colour"]: wanted[item["name"]] for item in after.get("legend", [])
              if item["name"] in wanted}
    for item in after.get("legend", []):
        item["colour"] = change.get(item["colour"], item["colour"])


@login_required
def optimisation_result(request, run_pk: int):
    """An optimisation's progress; once done, the balance per territory, compactness,
    the proven gap, the maps before and after and the way to the what-if comparison."""
    run = run_for(request.user, run_pk)
    if run is None:
        raise Http404("No such optimisation.")
    context: dict = {"run": run, "job": run.job, "metrics": run.metrics,
                     "measure_labels": MEASURES}
    rows = run.metrics.get("territories", [])
    if run.draft and run.source and rows:
        before = territory_map(request.user, run.source, [r["source_id"] for r in rows])
        after = territory_map(request.user, run.draft,
                              [r["draft_id"] for r in rows if r["draft_id"]])
        _same_colours(before, after)
        context.update(before_map=with_map_json(before), after_map=with_map_json(after))
    if run.source and rows and not (run.job and not run.job.finished):
        total = selectors.account_count_in(run.source, [r["source_id"] for r in rows])
        moved = run.metrics.get("moved_accounts", 0)
        context.update(accounts_total=total,
                       moved_share=round(100 * moved / total) if total else 0)
    template = "territories/optimise_result.html"
    if request.htmx:
        template += "#result"
    return _page(request, template, context)
