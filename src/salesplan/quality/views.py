"""Quality-control pages: the overview, each check's list with its fix buttons, territory
violations, duplicates with the side-by-side merge, scores with their trend, and the
policy. Thin: reads from selectors, writes through services; htmx swaps a fixed row."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from salesplan.core.clock import company_today
from salesplan.core.errors import NotFound, StaleVersion
from salesplan.core.jobs import start_job
from salesplan.core.listing import keyset_page
from salesplan.core.records import posted_version
from salesplan.core.registry import allowed, require
from salesplan.org.models import Team, User
from salesplan.pipeline.models import Stage
from salesplan.reports.exporting import Column, export_table
from salesplan.ui import charts

from . import checks as qc
from . import merging, scanning, selectors, services
from .models import (
    DUPLICATE_TYPES,
    DuplicateCandidate,
    DuplicateScan,
    QualitySettings,
    RecordType,
    RequiredField,
)

EXPORT_FORMATS = ("csv", "xlsx")


def _page(request, template: str, context: dict):
    context.setdefault("nav_section", "quality")
    context.setdefault("can_review", selectors.can_review(request.user))
    return render(request, template, context)


def _check_or_404(key: str) -> qc.Check:
    check = qc.get_check(key)
    if check is None:
        raise Http404(f"No quality check {key!r}.")
    return check


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or "You may not do this."


@login_required
def overview(request):
    """Counts by check and by owner, duplicates waiting, and the latest score."""
    ctx = qc.Context.current()
    counts, owner_rows, notes = selectors.overview_counts(request.user, ctx)
    when = selectors.counted_at(counts)
    duplicates = {t: selectors.visible_pairs(request.user, t).count() for t in DUPLICATE_TYPES}
    day, _people, teams = selectors.latest_scores(request.user)
    for row in owner_rows:
        row["cells"] = [(key, row["counts"].get(key, 0)) for key in qc.CHECKS]
    return _page(request, "quality/overview.html", {
        "counts": counts, "owner_rows": owner_rows[:100], "owner_notes": notes,
        "checks": list(qc.CHECKS.values()), "duplicates": duplicates,
        "score_day": day, "team_scores": teams[:10], "settings": ctx.settings,
        "first_touch": qc.lead_first_touch_hours(ctx), "counted_at": when,
        "can_recount": allowed(request.user, "quality_check", "recount"),
    })


@login_required
def card(request):
    """The dashboard's quality card alone, which fetches itself again while it is being
    counted in the background."""
    found = selectors.dashboard_card(request.user)
    if found is None:
        raise Http404("No quality card for you.")
    return render(request, "quality/_dashboard_card.html", {"card": found})


@login_required
@require_POST
def recount(request):
    """Count every check over every record again (in the background) for the
    company-wide overview."""
    from .tasks import count_issues

    require(request.user, "quality_check", "recount")
    job = start_job("quality.count", by=request.user, task=count_issues)
    return redirect("web:imports:job", pk=job.pk)


def _owner_filter(request) -> int | None:
    raw = request.GET.get("owner", "")
    return int(raw) if raw.isdigit() else None


@login_required
def check_list(request, key: str):
    """One check's flagged records with the fix next to each."""
    check = _check_or_404(key)
    ctx = qc.Context.current()
    owner_id = _owner_filter(request)
    try:
        page, items = selectors.check_page(request.user, check, cursor=request.GET.get("cursor"),
                                           owner_id=owner_id, ctx=ctx)
    except ValidationError as exc:
        raise Http404("Bad page cursor.") from exc
    context = {"check": check, "page": page, "items": items, "formats": EXPORT_FORMATS,
               "owner": User.objects.filter(pk=owner_id).first() if owner_id else None,
               "default_close": services.next_working_day(ctx.today + timedelta(days=29)),
               "today": ctx.today, "settings": ctx.settings,
               "touch_kinds": services.LEAD_TOUCH_KINDS}
    template = "quality/check.html"
    if request.htmx and request.GET.get("cursor") is not None:
        template += "#rows"
    return _page(request, template, context)


@login_required
@require_POST
def fix(request, key: str, record_id: int):
    """Apply a check's fix to one record; htmx replaces the row with the outcome."""
    ok, message = True, ""
    try:
        message = services.apply_fix(key, record_id, by=request.user, data=request.POST.dict())
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except PermissionDenied as exc:
        if not request.htmx:
            raise
        ok, message = False, _error_text(exc)
    except (ValidationError, StaleVersion) as exc:
        ok, message = False, _error_text(exc)
    if request.htmx:
        response = render(request, "quality/_fix_result.html",
                          {"ok": ok, "message": message, "record_id": record_id})
        if not ok:
            response.status_code = 200  # the row shows the error; htmx swaps only 2xx
        return response
    (messages.success if ok else messages.error)(request, message)
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    if key == qc.TERRITORY_CHECK:
        return redirect("web:quality:territory")
    return redirect("web:quality:check", key=key)


@login_required
def territory(request):
    """Records owned outside their territory (from the territories app)."""
    rows = selectors.territory_items(request.user, limit=200)
    return _page(request, "quality/territory.html", {"rows": rows, "limited": len(rows) >= 200})


@login_required
def export(request, key: str, fmt: str):
    """The check's list (up to 10,000 rows you may see) as CSV or XLSX."""

    check = _check_or_404(key)
    if fmt not in EXPORT_FORMATS:
        raise Http404("Choose csv or xlsx.")
    ctx = qc.Context.current()
    queryset = selectors.with_related(check.query(request.user, ctx), check.record_type) \
        .order_by(check.order, "pk")[:10_000]
    items = selectors.describe(check, list(queryset), ctx)
    columns = [Column("record_id", "Id", "int"), Column("name", "Record"),
               Column("owner", "Owner"), Column("detail", "What is wrong")]
    rows = [(i.record_id, i.name, str(i.owner or ""), i.detail) for i in items]
    return export_table(title=check.label, columns=columns, rows=rows, fmt=fmt,  # type: ignore
                        filters={"Generated for": str(request.user)},
                        filename=f"quality-{check.key}-{company_today():%Y%m%d}")


# --- duplicates ---------------------------------------------------------------------------


def _hinted(record):
    """The record with `hint`: what identifies it besides its name (e-mail or domain)."""
    if record is not None:
        record.hint = getattr(record, "email", "") or getattr(record, "domain", "")
    return record


def _record_type(request) -> str:
    value = request.GET.get("type") or request.POST.get("record_type") or RecordType.CONTACT
    if value not in DUPLICATE_TYPES:
        raise Http404("Choose accounts, contacts or leads.")
    return value


@login_required
def duplicates(request):
    """Likely duplicate pairs of one record type, best first, with the last scan."""
    record_type = _record_type(request)
    try:
        page = keyset_page(selectors.visible_pairs(request.user, record_type),
                           sort_field="-score", sort_key="-score",
                           cursor=request.GET.get("cursor"))
    except ValidationError as exc:
        raise Http404("Bad page cursor.") from exc
    records = selectors.pair_records(page.items)
    rows = [(p, _hinted(records.get((p.record_type, p.left_id))),
             _hinted(records.get((p.record_type, p.right_id)))) for p in page.items]
    template = "quality/duplicates.html"
    if request.htmx and request.GET.get("cursor") is not None:
        template += "#rows"
    return _page(request, template, {
        "record_type": record_type, "types": DUPLICATE_TYPES, "page": page, "rows": rows,
        "last_scan": DuplicateScan.objects.filter(record_type=record_type,
                                                  finished_at__isnull=False).first()})


@login_required
@require_POST
def duplicate_scan(request):
    try:
        job = scanning.start_scan(by=request.user, record_type=_record_type(request))
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, _error_text(exc))
        return redirect(f"{reverse('web:quality:duplicates')}?type={_record_type(request)}")
    return redirect("web:imports:job", pk=job.pk)


def _visible_pair(request, pk: int) -> DuplicateCandidate:
    pair = DuplicateCandidate.objects.filter(pk=pk).first()
    if pair is None or not selectors.visible_pairs(request.user, pair.record_type,
                                                   status=pair.status).filter(
            pk=pk).exists():
        raise Http404(f"No duplicate pair with id {pk}.")
    return pair


@login_required
def pair(request, pk: int):
    """The two records side by side; choose the survivor and, per field, which value."""
    candidate = _visible_pair(request, pk)
    records = selectors.pair_records([candidate])
    left = records.get((candidate.record_type, candidate.left_id))
    right = records.get((candidate.record_type, candidate.right_id))
    if left is None or right is None:
        raise Http404("One of the records no longer exists.")
    return _page(request, "quality/pair.html", {
        "pair": candidate, "left": left, "right": right,
        "fields": merging.differing_fields(candidate.record_type, left, right),
        "related": _related_counts(left) | {f"right:{k}": v
                                            for k, v in _related_counts(right).items()},
    })


def _related_counts(record) -> dict[str, int]:
    counts = {}
    for name in ("contacts", "opportunities", "activities"):
        manager = getattr(record, name, None)
        if manager is not None:
            counts[name] = manager.count()
    return counts


@login_required
@require_POST
def pair_merge(request, pk: int):
    candidate = _visible_pair(request, pk)
    survivor = request.POST.get("survivor", "")
    if survivor not in (str(candidate.left_id), str(candidate.right_id)):
        messages.error(request, "Choose which record stays.")
        return redirect("web:quality:pair", pk=pk)
    survivor_id = int(survivor)
    merged_id = candidate.right_id if survivor_id == candidate.left_id else candidate.left_id
    keep = [name for name in merging.MERGE_FIELDS[candidate.record_type]
            if request.POST.get(f"field_{name}") == str(merged_id)]
    try:
        merging.merge_records(by=request.user, record_type=candidate.record_type,
                              survivor_id=survivor_id, merged_id=merged_id,
                              keep_from_merged=keep)
    except (ValidationError, PermissionDenied, StaleVersion) as exc:
        messages.error(request, _error_text(exc))
        return redirect("web:quality:pair", pk=pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    messages.success(request, "Merged; the related records moved and the history is kept.")
    return redirect(f"web:{candidate.record_type}_detail", pk=survivor_id)


@login_required
@require_POST
def pair_dismiss(request, pk: int):
    candidate = _visible_pair(request, pk)
    try:
        merging.dismiss_pair(candidate, by=request.user)
    except (PermissionDenied, NotFound) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, "Marked as not a duplicate.")
    return redirect(f"{reverse('web:quality:duplicates')}?type={candidate.record_type}")


# --- scores --------------------------------------------------------------------------------


@login_required
def scores(request):
    """Scores per rep and team, and one subject's trend as a chart and a table."""
    day, people, teams = selectors.latest_scores(request.user)
    subject = selectors.default_subject(request.user)
    for name in ("user_id", "team_id"):
        raw = request.GET.get(name.removesuffix("_id"), "")
        if raw.isdigit():
            subject = {name: int(raw)}
    weekly = request.GET.get("period") == "weekly"
    points = selectors.trend(request.user, weekly=weekly, **subject)
    label = "Company"
    if "user_id" in subject:
        label = str(User.objects.filter(pk=subject["user_id"]).first() or "")
    elif "team_id" in subject:
        label = str(Team.objects.filter(pk=subject["team_id"]).first() or "")
    chart = charts.line_chart([f"{p.taken_on:%d %b}" for p in points],
                              {label: [float(p.score) for p in points]},
                              title=f"Data-quality score: {label}", y_name="Score")
    return _page(request, "quality/scores.html", {
        "day": day, "people": people, "teams": teams, "points": points, "chart": chart,
        "subject_label": label, "weekly": weekly, "checks": list(qc.CHECKS.values())})


@login_required
@require_POST
def snapshot(request):
    from .tasks import snapshot_scores

    try:
        services.require_reviewer(request.user)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect("web:quality:scores")
    job = start_job("quality.snapshot", by=request.user, task=snapshot_scores)
    return redirect("web:imports:job", pk=job.pk)


# --- policy and settings -------------------------------------------------------------------


@login_required
def policy(request):
    """The required-field policy and the thresholds; admins change them."""
    return _page(request, "quality/policy.html", {
        "rules": RequiredField.objects.select_related("stage", "stage__pipeline"),
        "settings": QualitySettings.current(), "is_admin": request.user.is_admin,
        "types": [(t, services.field_choices(t)) for t in qc.REQUIRABLE],
        "stages": Stage.objects.select_related("pipeline").order_by("pipeline__position",
                                                                    "pipeline_id", "position"),
        "settings_fields": services.SETTINGS_FIELDS,
    })


@login_required
@require_POST
def policy_add(request):
    stage_id = request.POST.get("stage", "")
    stage = Stage.objects.filter(pk=stage_id).first() if stage_id.isdigit() else None
    try:
        services.add_required_field(by=request.user, record_type=request.POST.get(
            "record_type", ""), field=request.POST.get("field", ""), stage=stage)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, "The field is now required.")
    return redirect("web:quality:policy")


@login_required
@require_POST
def policy_remove(request, pk: int):
    rule = RequiredField.objects.filter(pk=pk).first()
    if rule is None:
        raise Http404("No such required field.")
    try:
        services.remove_required_field(rule, by=request.user,
                                       expected_version=posted_version(request.POST))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "The field is no longer required.")
    return redirect("web:quality:policy")


@login_required
@require_POST
def settings_save(request):
    data = {}
    for name in services.SETTINGS_FIELDS:
        raw = request.POST.get(name, "").strip()
        if raw:
            data[name] = int(raw) if raw.isdigit() else raw
    try:
        services.update_settings(by=request.user, data=data,
                                 expected_version=posted_version(request.POST))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, "Thresholds saved.")
    return redirect("web:quality:policy")
