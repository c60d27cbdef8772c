"""Opportunities: list, detail, forms, stage moves, closing, and the pipeline board."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from salesplan.core.errors import StaleVersion
from salesplan.core.permissions import has_permission
from salesplan.core.records import posted_version
from salesplan.core.request_memo import remembers_reads
from salesplan.pipeline import selectors, services
from salesplan.pipeline.filters import OPPORTUNITY_LIST
from salesplan.pipeline.forms import (
    CloseLostForm,
    MoveForm,
    OpportunityForm,
    QuickAddForm,
    closing_stage,
)
from salesplan.pipeline.models import Opportunity, Pipeline, Stage, StageKind
from salesplan.ui.forms import STALE_MESSAGE, owner_choices
from salesplan.ui.pages import ListSpec, list_page, visible_or_404

from .common import delete_page, detail_context, form_page


def _stage_options():
    return [(str(s.pk), f"{s.pipeline.name}: {s.name}")
            for s in Stage.objects.select_related("pipeline").order_by("pipeline__position",
                                                                       "pipeline_id", "position")]


def _pipeline_options():
    return [(str(p.pk), p.name) for p in Pipeline.objects.filter(active=True)]


OPPORTUNITIES = ListSpec(
    "opportunity", "opportunities", "Opportunities", OPPORTUNITY_LIST,
    selectors.opportunity_list, "pipeline/opportunity_list.html",
    ("owner", "pipeline", "stage", "status", "forecast_category", "close_after",
     "close_before", "min_amount"),
    {"stage": _stage_options, "pipeline": _pipeline_options})


@login_required
def opportunity_list(request):
    return list_page(request, OPPORTUNITIES)


@login_required
def opportunity_detail(request, pk):
    opportunity = visible_or_404(Opportunity, request.user, pk, related=(
        "account", "contact", "owner", "stage", "pipeline"))
    context = detail_context(request, "opportunity", opportunity)
    context.update({
        "stage_history": list(selectors.stage_history(opportunity)),
        "move_form": MoveForm(opportunity=opportunity),
        "lost_form": CloseLostForm(initial={"version": opportunity.version}),
        "is_open": opportunity.status == StageKind.OPEN,
    })
    return render(request, "pipeline/opportunity_detail.html", context)


@login_required
def opportunity_create(request):
    return form_page(request, form_class=OpportunityForm, resource="opportunity",
                     template="pipeline/opportunity_form.html", title="New opportunity",
                     success_message="Opportunity created.")


@login_required
def opportunity_edit(request, pk):
    opportunity = visible_or_404(Opportunity, request.user, pk)
    return form_page(request, form_class=OpportunityForm, resource="opportunity",
                     instance=opportunity, template="pipeline/opportunity_form.html",
                     title=f"Edit {opportunity}", success_message="Opportunity saved.")


@login_required
@require_http_methods(["GET", "POST"])
def opportunity_delete(request, pk):
    return delete_page(request, model=Opportunity, resource="opportunity", pk=pk,
                       delete_service=services.delete_opportunity, label="Opportunity")


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _move(request, opportunity, stage, lost_reason=""):
    """Move with the version the card or dialog was drawn with, and describe the outcome
    as (http status, message, updated deal or None)."""
    try:
        moved = services.move_opportunity(opportunity, stage, by=request.user,
                                          expected_version=posted_version(request.POST),
                                          lost_reason=lost_reason)
    except StaleVersion:
        return 409, STALE_MESSAGE, None
    except PermissionDenied:
        return 403, "You may not move this opportunity.", None
    except ValidationError as exc:
        return 400, " ".join(m for ms in exc.message_dict.values() for m in ms), None
    return 200, f"“{moved.name}” moved to {stage.name}.", moved


def _parse_id(raw) -> int | None:
    try:
        return int(raw) if raw not in (None, "") else None
    except ValueError:
        return None


@login_required
@require_POST
@remembers_reads
def opportunity_move(request, pk):
    """Move to a stage: from the board (JSON answer) or a plain form (redirect back)."""
    opportunity = visible_or_404(Opportunity, request.user, pk)
    stage_id = _parse_id(request.POST.get("stage"))
    stage = Stage.objects.filter(pk=stage_id).first() if stage_id is not None else None
    if stage is None:
        status, message, moved = 400, "Choose a stage to move to.", None
    else:
        status, message, moved = _move(request, opportunity, stage,
                                       request.POST.get("lost_reason", "").strip())
    if _wants_json(request):
        body = {"ok": moved is not None, "message": message}
        if moved is not None:
            body.update(version=moved.version, stage=moved.stage_id)
        return JsonResponse(body, status=status)
    if status == 403:
        raise PermissionDenied(message)
    (messages.success if moved else messages.error)(request, message)
    return redirect(_back(request, "web:opportunity_detail", pk))


def _back(request, default: str, pk):
    from django.urls import reverse
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return reverse(default, args=[pk])


@login_required
@require_POST
def opportunity_close(request, pk, outcome):
    opportunity = visible_or_404(Opportunity, request.user, pk)
    kind = StageKind.WON if outcome == "won" else StageKind.LOST
    stage = closing_stage(opportunity, kind)
    reason = request.POST.get("lost_reason", "").strip()
    if stage is None:
        messages.error(request, f"The pipeline has no {kind.label.lower()} stage.")
    elif kind == StageKind.LOST and not reason:
        messages.error(request, "Say why the deal was lost.")
    else:
        status, message, moved = _move(request, opportunity, stage, reason)
        if status == 403:
            raise PermissionDenied(message)
        (messages.success if moved else messages.error)(request, message)
    return redirect("web:opportunity_detail", pk=pk)


def _board_pipeline(request, pipelines):
    chosen = next((p for p in pipelines if str(p.pk) == request.GET.get("pipeline")), None)
    return chosen or next((p for p in pipelines if p.is_default), None) or (
        pipelines[0] if pipelines else None)


def _owner_params(request) -> dict:
    return {k: v for k, v in request.GET.items() if k == "owner" and v}


def _board_rights(user) -> dict:
    return {"can_move": has_permission(user, "opportunity", "change"),
            "can_add": has_permission(user, "opportunity", "create")}


@login_required
def board(request):
    """Kanban columns per stage; cards drag between columns (and have a Move menu)."""
    pipelines = list(selectors.pipelines())
    chosen = _board_pipeline(request, pipelines)
    params = _owner_params(request)
    errors = ""
    columns = []
    if chosen is not None and has_permission(request.user, "opportunity", "view"):
        try:
            columns = selectors.board(request.user, chosen, params)
        except ValidationError:
            errors = "That owner filter is not valid."
    rights = _board_rights(request.user)
    if rights["can_add"]:
        for col in columns:
            if col["stage"].kind == StageKind.OPEN:
                col["quick_add"] = QuickAddForm(user=request.user, prefix=f"add{col['stage'].pk}")
    return render(request, "pipeline/board.html", {
        "pipelines": pipelines, "pipeline": chosen, "columns": columns, "errors": errors,
        "owners": owner_choices(request.user), "owner": request.GET.get("owner", ""),
        "owner_query": urlencode(params), **rights,
        "ageing_after": selectors.AGEING_AFTER_DAYS, "stale_after": selectors.STALE_AFTER_DAYS,
    })


def _visible_stage(request, stage_id) -> Stage:
    if not has_permission(request.user, "opportunity", "view"):
        raise PermissionDenied("You may not see opportunities.")
    stage = Stage.objects.select_related("pipeline").filter(pk=stage_id,
                                                             pipeline__active=True).first()
    if stage is None:
        raise Http404("No such stage.")
    return stage


@login_required
def board_cards(request, stage_id):
    """The next cards of a column, after the cursor (loaded when the column's end shows)."""
    stage = _visible_stage(request, stage_id)
    try:
        page = selectors.board_cards(request.user, stage.pipeline, stage, _owner_params(request),
                                     cursor=request.GET.get("cursor") or None)
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400)
    return render(request, "pipeline/_board_cards.html", {
        "deals": page.items, "next_cursor": page.next_cursor, "stage": stage,
        "owner_query": urlencode(_owner_params(request)), **_board_rights(request.user),
        "ageing_after": selectors.AGEING_AFTER_DAYS, "stale_after": selectors.STALE_AFTER_DAYS,
    })


def _summaries_context(request, pipeline: Pipeline) -> dict:
    summaries = selectors.board_summaries(request.user, pipeline, _owner_params(request))
    return {"summaries": [{"stage": s, **summaries.get(s.pk, {"count": 0, "totals": []})}
                          for s in pipeline.stages.order_by("position")]}


@login_required
def board_summaries(request, pipeline_id):
    """Every column's count and totals, as out-of-band swaps (after a move or an undo)."""
    if not has_permission(request.user, "opportunity", "view"):
        raise PermissionDenied("You may not see opportunities.")
    pipeline = Pipeline.objects.filter(pk=pipeline_id, active=True).first()
    if pipeline is None:
        raise Http404("No such pipeline.")
    try:
        context = _summaries_context(request, pipeline)
    except ValidationError:
        return HttpResponse("That owner filter is not valid.", status=400)
    return render(request, "pipeline/_board_summaries.html", context)


@login_required
def card_move_menu(request, pk):
    """A card's "Move to…" form, loaded only when the card's menu is opened."""
    opportunity = visible_or_404(Opportunity, request.user, pk)
    if not has_permission(request.user, "opportunity", "change", opportunity):
        raise PermissionDenied("You may not move this opportunity.")
    return render(request, "pipeline/_board_move_menu.html", {
        "o": opportunity,
        "next": request.headers.get("HX-Current-URL") or "/pipeline/",
        "stages": opportunity.pipeline.stages.exclude(pk=opportunity.stage_id)
        .order_by("position")})


@login_required
@require_POST
def opportunity_reopen(request, pk):
    """Undo a close: back to the open stage the deal was closed from (JSON for the board)."""
    opportunity = visible_or_404(Opportunity, request.user, pk)
    try:
        reopened = services.reopen_opportunity(opportunity, by=request.user,
                                               expected_version=posted_version(request.POST))
    except StaleVersion:
        return JsonResponse({"ok": False, "message": STALE_MESSAGE}, status=409)
    except PermissionDenied:
        return JsonResponse({"ok": False, "message": "You may not reopen this opportunity."},
                            status=403)
    except ValidationError as exc:
        return JsonResponse({"ok": False, "message": " ".join(exc.messages)}, status=400)
    return JsonResponse({"ok": True, "version": reopened.version, "stage": reopened.stage_id,
                         "message": f"“{reopened.name}” is back in {reopened.stage.name}."})


@login_required
@require_POST
def board_quick_add(request, stage_id):
    """Create a deal straight in a column; answers the emptied form, the new card and the
    column totals (out-of-band), or the form with its errors."""
    stage = _visible_stage(request, stage_id)
    if stage.kind != StageKind.OPEN:
        raise Http404("Deals are added to open stages only.")
    form = QuickAddForm(request.POST, user=request.user, prefix=f"add{stage.pk}", stage=stage)
    created = form.save(by=request.user) if form.is_valid() else None
    context = {"stage": stage, "form": form, "created": None, **_board_rights(request.user),
               "owner_query": request.POST.get("owner_query", ""),
               "ageing_after": selectors.AGEING_AFTER_DAYS,
               "stale_after": selectors.STALE_AFTER_DAYS}
    if created is not None:
        page = selectors.board_cards(request.user, stage.pipeline, stage, {},
                                     limit=1, only=created.pk)
        context.update(created=page.items[0] if page.items else None,
                       form=QuickAddForm(user=request.user, prefix=f"add{stage.pk}"),
                       **_summaries_context(request, stage.pipeline))
    return render(request, "pipeline/_board_quick_add.html", context)
