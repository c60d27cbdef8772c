"""Changes to many targets at once, previewed first: allocation, re-plan and their undo.

A change is computed without writing (`services.compute_allocation`,
`reviews.compute_replan`, or the figures an earlier change replaced) and shown as a diff:
every line of the target tree below the changed objective (who: a team, rep, territory
or product line) with its twelve months before and after. The preview hands the client
a signed token holding exactly the figures shown, the plan's version and a fingerprint
of the figures they replace. Confirming sends the token back: if the plan or those
figures changed since, the confirmation is refused (409, `PreviewChanged`) and nothing
is written; otherwise a `plan_change` background job writes the token's figures — the
previewed ones, not a new computation — checks the fingerprint again under the plan's
lock, and keeps the figures it replaced so the change can be undone (itself previewed).
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction

from salesplan.core.clock import company_today
from salesplan.core.errors import NotFound, PreviewChanged, StaleVersion
from salesplan.core.fiscal import CompanyCalendar
from salesplan.core.jobs import Progress, start_job
from salesplan.core.models import BackgroundJob
from salesplan.core.records import claim_version
from salesplan.org.models import User

from . import access, services
from .models import Measure, MonthlyTarget, Objective, Plan, PlanStatus

JOB_KIND = "plan_change"
ZERO = Decimal(0)
TOKEN_MAX_AGE = 24 * 3600  # a preview older than a day is drawn again
LARGE_CHANGE = Decimal("0.25")  # warn when a line's year moves by more than a quarter


@dataclass
class Line:
    """One objective of a target tree: who it is for and its twelve months."""

    key: str  # who, along the path from the changed objective: stable across changes
    parent_key: str | None
    label: str
    level: str
    depth: int
    months: list[Decimal]
    method: str = ""
    team_id: int | None = None
    rep_id: int | None = None
    territory_id: int | None = None
    product_line: str = ""

    @property
    def total(self) -> Decimal:
        return sum(self.months, ZERO)

    def as_data(self) -> dict[str, Any]:
        return {"key": self.key, "parent_key": self.parent_key, "label": self.label,
                "level": self.level, "depth": self.depth, "method": self.method,
                "months": [str(m) for m in self.months], "team_id": self.team_id,
                "rep_id": self.rep_id, "territory_id": self.territory_id,
                "product_line": self.product_line}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "Line":
        return cls(**{**data, "months": [Decimal(m) for m in data["months"]]})


def _who(level: str, team_id, rep_id, territory_id, product_line: str) -> str:
    return f"{level}:{team_id or ''}:{rep_id or ''}:{territory_id or ''}:{product_line}"


def subtree_lines(root: Objective) -> list[Line]:
    """The objective and everything allocated below it, parents before children."""
    objectives = {o.pk: o for o in Objective.objects.filter(
        plan_id=root.plan_id, measure=root.measure).select_related("team", "rep", "territory")}
    children: dict[int | None, list[Objective]] = {}
    for o in sorted(objectives.values(), key=lambda o: o.pk):
        children.setdefault(o.parent_id, []).append(o)
    months: dict[int, list[Decimal]] = {}
    for objective_id, month, target in MonthlyTarget.objects.filter(
            objective_id__in=list(objectives)).values_list("objective_id", "month", "target"):
        months.setdefault(objective_id, [ZERO] * 12)[month - 1] = target
    lines: list[Line] = []

    def visit(o: Objective, parent_key: str | None, depth: int) -> None:
        key = "root" if parent_key is None else (
            f"{parent_key}/{_who(o.level, o.team_id, o.rep_id, o.territory_id, o.product_line)}")
        lines.append(Line(key, parent_key, o.label, o.level, depth,
                          months.get(o.pk, [ZERO] * 12), o.method, o.team_id, o.rep_id,
                          o.territory_id, o.product_line))
        for child in children.get(o.pk, []):
            visit(child, key, depth + 1)

    visit(objectives.get(root.pk, root), None, 0)
    return lines


def fingerprint(plan_version: int, lines: list[Line]) -> str:
    """Of the figures a change replaces (and the plan's version): any edit alters it."""
    text = json.dumps([plan_version, [line.as_data() for line in lines]], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class MonthChange:
    month: int
    label: str
    before: Decimal
    after: Decimal
    past: bool

    @property
    def change(self) -> Decimal:
        return self.after - self.before


@dataclass
class DiffRow:
    """One line: its year and its months before and after the change."""

    key: str
    label: str
    level: str
    depth: int
    status: str  # added, removed, changed or unchanged
    before_total: Decimal
    after_total: Decimal
    months: list[MonthChange]

    @property
    def change(self) -> Decimal:
        return self.after_total - self.before_total

    @property
    def changed_months(self) -> list[MonthChange]:
        return [m for m in self.months if m.change]


@dataclass
class Preview:
    """A change drawn but not made: its diff, warnings and the token that applies it."""

    kind: str
    plan: Plan
    summary: str
    reason: str
    before: list[Line]
    after: list[Line]
    token: str = ""
    rows: list[DiffRow] = field(default_factory=list)
    past_months: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[DiffRow]:
        return [r for r in self.rows if r.status != "unchanged"]

    @property
    def totals(self) -> dict[str, Any]:
        """Over the lines one level below the changed objective (they add up to it)."""
        level = [r for r in self.rows if r.depth == 1]
        before = sum((r.before_total for r in level), ZERO)
        after = sum((r.after_total for r in level), ZERO)
        return {"lines": len(self.rows), "changed": len(self.changed),
                "before": before, "after": after, "change": after - before,
                "gained": sum((r.change for r in self.rows if r.depth and r.change > 0), ZERO),
                "lost": sum((-r.change for r in self.rows if r.depth and r.change < 0), ZERO)}


# --- drawing a preview --------------------------------------------------------------------


def _first_open_month(plan: Plan, calendar: CompanyCalendar) -> int:
    from .reviews import fiscal_month_of

    return fiscal_month_of(plan, company_today(), calendar)


def _diff(before: list[Line], after: list[Line], labels: list[str],
          first_open: int) -> list[DiffRow]:
    was = {line.key: line for line in before}
    now = {line.key: line for line in after}
    order = [line.key for line in after] + [line.key for line in before if line.key not in now]
    rows = []
    for key in order:
        b, a = was.get(key), now.get(key)
        line = a if a is not None else was[key]
        b_months = b.months if b else [ZERO] * 12
        a_months = a.months if a else [ZERO] * 12
        status = ("added" if b is None else "removed" if a is None
                  else "changed" if b_months != a_months else "unchanged")
        rows.append(DiffRow(key, line.label, line.level, line.depth, status,
                            sum(b_months, ZERO), sum(a_months, ZERO), [
                                MonthChange(m + 1, labels[m], b_months[m], a_months[m],
                                            m + 1 < first_open) for m in range(12)]))
    return rows


def _warnings(preview: Preview, labels: list[str]) -> list[str]:
    found = []
    if preview.past_months:
        names = ", ".join(labels[m - 1] for m in preview.past_months)
        found.append(f"Months already gone change: {names}. Their targets are rewritten "
                     "as shown.")
    large = [r for r in preview.rows if r.depth and r.before_total
             and abs(r.change) > LARGE_CHANGE * r.before_total]
    if large:
        found.append(f"{len(large)} line(s) move by more than a quarter of their year, e.g. "
                     f"{large[0].label}: {large[0].before_total:,.2f} → "
                     f"{large[0].after_total:,.2f}.")
    removed = [r for r in preview.rows if r.status == "removed"]
    if removed:
        found.append(f"{len(removed)} target(s) are removed (they are replaced by the new "
                     "lines).")
    return found


def _finish(preview: Preview, by: User, root: Objective) -> Preview:
    calendar = CompanyCalendar.current()
    labels = [m.start.strftime("%b %Y") for m in calendar.months(preview.plan.fiscal_year)]
    first_open = _first_open_month(preview.plan, calendar)
    preview.rows = _diff(preview.before, preview.after, labels, first_open)
    preview.past_months = sorted({m.month for r in preview.rows for m in r.months
                                  if m.past and m.change})
    preview.warnings = _warnings(preview, labels)
    preview.token = signing.dumps({
        "kind": preview.kind, "plan": preview.plan.pk, "version": preview.plan.version,
        "root": root.pk, "measure": root.measure, "reason": preview.reason,
        "summary": preview.summary, "past_months": preview.past_months,
        "basis": fingerprint(preview.plan.version, preview.before),
        "after": [line.as_data() for line in preview.after]},
        salt=_salt(by), compress=True)
    return preview


def _salt(by: User) -> str:
    return f"planning.changes:{by.pk}"


def _changeable(plan: Plan, by: User, reason: str) -> Plan:
    """The plan afresh, if the user may change it now (same rules as applying)."""
    access.require_edit(by, plan)
    plan = Plan.objects.get(pk=plan.pk)
    if plan.status in (PlanStatus.SUBMITTED, PlanStatus.CLOSED):
        raise ValidationError({"status": [
            f"A {plan.get_status_display().lower()} plan cannot be changed."]})
    if plan.is_revised_on_change and not reason.strip():
        raise ValidationError({"reason": [
            "The plan is approved: say why it changes (the change becomes a revision)."]})
    return plan


def preview_allocation(parent: Objective, *, by: User, to: str, method: str,
                       weights: dict | None = None, reason: str = "") -> Preview:
    """What allocating `parent` would do, without writing anything."""
    plan = _changeable(parent.plan, by, reason)
    children, matrix = services.compute_allocation(parent, to=to, method=method,
                                                   weights=weights)
    before = subtree_lines(parent)
    root = before[0]
    after = [Line(root.key, None, root.label, root.level, 0, root.months, method,
                  root.team_id, root.rep_id, root.territory_id, root.product_line)]
    for child, months in zip(children, matrix, strict=True):
        team_id = child.team.pk if child.team else None
        rep_id = child.rep.pk if child.rep else None
        territory_id = child.territory.pk if child.territory else None
        key = "root/" + _who(child.level, team_id, rep_id, territory_id, child.product_line)
        after.append(Line(key, "root", child.label, child.level, 1, months, "", team_id,
                          rep_id, territory_id, child.product_line))
    summary = (f"Allocate {Measure(parent.measure).label.lower()} of {parent.label} to "
               f"{len(children)} {to.replace('_', ' ')} ({method.replace('_', ' ')})")
    return _finish(Preview("allocate", plan, summary, reason, before, after), by, parent)


def preview_replan(plan: Plan, *, by: User, measure: str, as_of: date, reason: str
                   ) -> Preview:
    """What re-planning a measure would do, without writing anything. The months before
    `as_of`'s month are set to their actuals: the preview lists them as months gone."""
    from .reviews import compute_replan

    plan = _changeable(plan, by, reason)
    top, result, first_open = compute_replan(plan, by=by, measure=measure, as_of=as_of)
    before = subtree_lines(top)
    ids = _line_ids(top)
    after = [Line(**{**line.__dict__, "months": result.get(ids[line.key], line.months)})
             for line in before]
    summary = (f"Re-plan {Measure(measure).label.lower()}: months before "
               f"month {first_open} locked at their actuals, the rest spread")
    return _finish(Preview("replan", plan, summary, reason, before, after), by, top)


def _line_ids(root: Objective) -> dict[str, int]:
    """Each line's objective id, by key (the same walk as `subtree_lines`)."""
    objectives = list(Objective.objects.filter(plan_id=root.plan_id, measure=root.measure)
                      .order_by("pk"))
    children: dict[int | None, list[Objective]] = {}
    for o in objectives:
        children.setdefault(o.parent_id, []).append(o)
    ids: dict[str, int] = {}

    def visit(o: Objective, key: str) -> None:
        ids[key] = o.pk
        for c in children.get(o.pk, []):
            visit(c, f"{key}/" + _who(c.level, c.team_id, c.rep_id, c.territory_id,
                                      c.product_line))

    visit(root, "root")
    return ids


def applied_change(plan: Plan, job_id: int) -> BackgroundJob:
    """A change applied to this plan that can be undone (whoever applied it: anyone who
    may change the plan may put its figures back)."""
    job = BackgroundJob.objects.filter(kind=JOB_KIND, pk=job_id, params__plan=plan.pk,
                                       status=BackgroundJob.Status.SUCCEEDED).first()
    if job is None or "undo" not in job.result:
        raise NotFound(f"Plan {plan.pk} has no applied change {job_id}.")
    return job


def preview_undo(plan: Plan, *, by: User, job_id: int, reason: str = "") -> Preview:
    """Putting back the figures an applied change replaced, drawn as a change itself."""
    access.require_edit(by, plan)
    job = applied_change(plan, job_id)
    plan = _changeable(plan, by, reason)
    root = Objective.objects.filter(plan=plan, pk=job.result["undo"]["root"]).first()
    if root is None:
        raise ValidationError({"job": [
            "The target that change was made to has been replaced since; it cannot be "
            "undone."]})
    after = [Line.from_data(d) for d in job.result["undo"]["lines"]]
    summary = f"Undo: {job.params.get('summary', 'change')}"
    return _finish(Preview("undo", plan, summary, reason, subtree_lines(root), after), by,
                   root)


# --- confirming and applying --------------------------------------------------------------


def _unsign(token: str, by: User) -> dict[str, Any]:
    try:
        return signing.loads(token, salt=_salt(by), max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise ValidationError({"preview": [
            "This preview is more than a day old; draw it again."]}) from exc
    except signing.BadSignature as exc:
        raise ValidationError({"preview": [
            "This is not a preview drawn for you; draw the preview again."]}) from exc


STALE = ("The plan's targets changed since this preview was drawn ({what}); nothing was "
         "changed. Draw the preview again and check it before applying.")


def _check_basis(plan: Plan, data: dict[str, Any], claimed: bool = False) -> Objective:
    """The changed objective, if the plan is still at the preview's version (one more
    once the confirmation claimed it) and its figures are those the preview replaced."""
    if plan.version != data["version"] + (1 if claimed else 0):
        raise PreviewChanged(STALE.format(
            what=f"the plan is now at version {plan.version}, the preview was drawn at "
                 f"version {data['version']}"))
    root = Objective.objects.filter(plan=plan, pk=data["root"]).first()
    if root is None or fingerprint(data["version"], subtree_lines(root)) != data["basis"]:
        raise PreviewChanged(STALE.format(what="its figures were edited"))
    return root


def confirm(plan: Plan, *, by: User, token: str, version: int) -> BackgroundJob:
    """Start the job that applies exactly a previewed change; a stale preview is refused
    here (409) with nothing written."""
    access.require_edit(by, plan)
    data = _unsign(token, by)
    if data["plan"] != plan.pk:
        raise ValidationError({"preview": ["This preview is of another plan."]})
    plan = _changeable(plan, by, data["reason"])
    if version != plan.version:
        raise StaleVersion(plan.version, version)
    _check_basis(plan, data)
    from .tasks import run_plan_change

    with transaction.atomic():
        # The change is under way: the plan moves to its next version now, so a second
        # confirmation of the same preview, or any edit drawn before, is refused.
        claim_version(plan, version)
        return start_job(JOB_KIND, by=by, task=run_plan_change, params={
            "plan": plan.pk, "kind": data["kind"], "summary": data["summary"],
            "change": data})


def apply_change(job: BackgroundJob) -> tuple[dict, str]:
    """The job: under the plan's lock, check the basis again and write the figures."""
    data = job.params["change"]
    by = job.created_by
    with transaction.atomic():
        plan = services._check_changeable(Plan(pk=data["plan"]), by, data["reason"])
        root = _check_basis(plan, data, claimed=True)
        before = subtree_lines(root)
        after = [Line.from_data(d) for d in data["after"]]
        progress = Progress(job, len(after), every=50)
        changed = _write(root, before, after, progress)
        services._after_change(plan, by, data["reason"], f"{data['measure']} {data['kind']}",
                               str(sum((b.total for b in before if b.depth == 1), ZERO)),
                               data["summary"])
    result = {"plan_id": plan.pk, "kind": data["kind"], "lines_changed": changed,
              "past_months": data["past_months"], "undo": {
                  "root": root.pk, "lines": [line.as_data() for line in before]}}
    return result, f"{data['summary']}: {changed} target line(s) changed."


def _write(root: Objective, before: list[Line], after: list[Line], progress: Progress) -> int:
    """Update months in place when the tree keeps its shape; otherwise replace what is
    below the root (its targets follow the previewed lines, parents first)."""
    was = {line.key: line for line in before}
    changed = sum(1 for line in after if was.get(line.key) is None
                  or was[line.key].months != line.months)
    changed += sum(1 for key in was if key not in {line.key for line in after})
    if [b.key for b in before] == [a.key for a in after]:
        ids = _line_ids(root)
        for i, line in enumerate(after):
            old = was[line.key]
            if old.months != line.months:
                _set_months(ids[line.key], line.months)
            if old.method != line.method:
                Objective.objects.filter(pk=ids[line.key]).update(method=line.method)
            progress.advance_to(i + 1)
        return changed
    root.children.all().delete()
    Objective.objects.filter(pk=root.pk).update(method=after[0].method)
    _set_months(root.pk, after[0].months)
    created = {"root": root}
    for i, line in enumerate(after[1:], start=2):
        parent = created[line.parent_key or "root"]
        created[line.key] = Objective.objects.create(
            plan_id=root.plan_id, parent=parent, measure=root.measure, level=line.level,
            team_id=line.team_id, rep_id=line.rep_id, territory_id=line.territory_id,
            product_line=line.product_line, method=line.method)
        _set_months(created[line.key].pk, line.months)
        progress.advance_to(i)
    return changed


def _set_months(objective_id: int, months: list[Decimal]) -> None:
    MonthlyTarget.objects.filter(objective_id=objective_id).delete()
    MonthlyTarget.objects.bulk_create(
        MonthlyTarget(objective_id=objective_id, month=m + 1, target=v)
        for m, v in enumerate(months))


def latest_changes(plan: Plan, limit: int = 5) -> list[BackgroundJob]:
    """The plan's recent applied changes, newest first, for the plan page's undo links."""
    return list(BackgroundJob.objects.filter(
        kind=JOB_KIND, params__plan=plan.pk, status=BackgroundJob.Status.SUCCEEDED)
        .select_related("created_by").order_by("-created_at", "-id")[:limit])
