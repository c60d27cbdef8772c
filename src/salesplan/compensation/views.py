"""Compensation pages: a rep's pay (plan, acceptance, earnings to date, next tier,
statements), a statement with each line explained and disputed, the manager's team
statements and disputes, MBO scoring, the accrual of the rest of the year, the admin's pay
periods and the what-if of a draft plan.

Thin: reads through `selectors` (pay the user may see), writes through `services`.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q, Sum
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST

from salesplan.core.clock import company_today
from salesplan.core.records import posted_version
from salesplan.core.registry import allowed
from salesplan.core.selectors import get_from
from salesplan.org.models import User
from salesplan.proposals.pdf import html_to_pdf
from salesplan.ui.pages import require_or_403

from . import accrual, contests, mbo, selectors, services
from . import payroll as payroll_files
from .models import CompPeriod, ContestVisibility, DisputeStatus, PeriodStatus, PlanStatus


def _errors(exc: ValidationError) -> str:
    return "; ".join(" ".join(v) for v in exc.message_dict.values())


@login_required
def my_pay(request):
    """My pay: the plan in force (to read and accept), earnings to date, where the next
    tier starts and what it pays, and my statements."""
    mine = selectors.my_plan(request.user, company_today())
    return render(request, "compensation/mine.html", {
        "nav_section": "comp", "mine": mine,
        "can_accept": mine.plan is not None and mine.acceptance is None
        and allowed(request.user, "comp_plan", "accept", mine.plan),
        "can_team": allowed(request.user, "comp_dispute", "answer"),
        "can_contests": allowed(request.user, "comp_contest", "view")
        and bool(contests.teams(request.user))})


@login_required
@require_POST
def accept_plan(request, pk: int):
    plan = selectors.get_plan(request.user, pk)
    try:
        services.accept_plan(plan, by=request.user)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, f"You accepted {plan}.")
    return redirect("web:comp:mine")


@login_required
def statement(request, pk: int):
    """A statement: totals, attainment, next tier and each line with its explanation."""
    found = selectors.get_statement(request.user, pk)
    lines = list(found.lines.all())
    disputes = list(selectors.disputes(request.user).filter(statement=found))
    return render(request, "compensation/statement.html", {
        "nav_section": "comp", "statement": found, "lines": lines, "disputes": disputes,
        "can_dispute": allowed(request.user, "comp_dispute", "raise", found),
        "can_answer": allowed(request.user, "comp_dispute", "answer", found)})


@login_required
def explain_line(request, pk: int, position: int):
    """Explain this figure: the deals, credit lines, rates and rule behind one line."""
    found, line = selectors.statement_line(request.user, pk, position)
    template = "compensation/line.html"
    if request.htmx:
        template += "#explain"
    return render(request, template, {"nav_section": "comp", "statement": found,
                                      "line": line})


@login_required
@require_POST
def raise_dispute(request, pk: int, position: int):
    found = selectors.get_statement(request.user, pk)
    try:
        services.raise_dispute(found, position, by=request.user,
                               text=request.POST.get("text", ""))
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, "Your dispute is with your manager.")
    return redirect("web:comp:statement", pk=found.pk)


@login_required
@require_POST
def answer_dispute(request, pk: int):
    dispute = selectors.get_dispute(request.user, pk)
    version = posted_version(request.POST)
    text = request.POST.get("text", "")
    try:
        if request.POST.get("resolve"):
            services.resolve_dispute(dispute, by=request.user, resolution=text,
                                     expected_version=version)
            messages.success(request, "The dispute is resolved.")
        else:
            services.answer_dispute(dispute, by=request.user, answer=text,
                                    expected_version=version)
            messages.success(request, "Your answer is with the rep.")
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    return redirect("web:comp:statement", pk=dispute.statement_id)


@login_required
def team(request):
    """The statements of the people I answer for in a period, ranked by credited bookings
    (the standings, SPIFF earnings beside them), and their open disputes."""
    require_or_403(request.user, "comp_dispute", "answer")
    periods = list(CompPeriod.objects.order_by("-starts"))
    chosen = next((p for p in periods if str(p.pk) == request.GET.get("period")),
                  periods[0] if periods else None)
    rows = (selectors.statements(request.user).filter(period=chosen)
            .annotate(spiff=Sum("lines__amount", filter=Q(lines__kind="spiff")))
            .order_by("-bookings", "rep_id") if chosen else [])
    return render(request, "compensation/team.html", {
        "nav_section": "comp_team", "periods": periods, "chosen": chosen, "rows": rows,
        "disputes": selectors.disputes(request.user).exclude(status=DisputeStatus.RESOLVED)})


@login_required
def contest_standings(request):
    """SPIFF contests of a team: the standings of the chosen contest (rank, rep,
    qualifying deals and amount, payout so far, days left) as far as the user may see
    them, and for its manager the switch that turns them on and what its reps see."""
    choices = contests.teams(request.user)
    team = next((t for t in choices if str(t.pk) == request.GET.get("team")),
                choices[0] if choices else None)
    today = company_today()
    found = contests.contests(request.user, team, today) if team else []
    chosen = next((c for c in found if c.key == request.GET.get("contest")),
                  next((c for c in found if c.status(today) == "running"),
                       found[0] if found else None))
    rows = (contests.standings(request.user, team, chosen.key, today)[1]
            if team and chosen else [])
    return render(request, "compensation/contests.html", {
        "nav_section": "comp_contests", "teams": choices, "team": team, "contests": found,
        "chosen": chosen, "rows": rows, "today": today,
        "days_left": chosen.days_left(today) if chosen else 0,
        "setting": contests.setting_of(team) if team else None,
        "visibilities": ContestVisibility.choices,
        "can_configure": team is not None and allowed(request.user, "comp_contest",
                                                      "configure", team)})


@login_required
@require_POST
def contest_setting(request, team_id: int):
    team = contests.get_team(request.user, team_id)
    try:
        contests.set_contest_setting(
            team, by=request.user, data={"enabled": request.POST.get("enabled") == "on",
                                         "visibility": request.POST.get("visibility", "")},
            expected_version=posted_version(request.POST))
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, f"Contest standings of {team} saved.")
    return redirect(f"{reverse('web:comp:contests')}?team={team.pk}")


@login_required
def periods(request):
    """Pay periods: calculate, close, export to payroll (admins)."""
    require_or_403(request.user, "comp_period", "manage")
    return render(request, "compensation/periods.html", {
        "nav_section": "comp_periods", "periods": CompPeriod.objects.order_by("-starts")})


@login_required
@require_POST
def calculate_period(request, pk: int):
    period = selectors.get_period(request.user, pk)
    try:
        job = services.start_calculation(period, by=request.user)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect("web:comp:periods")
    return redirect("web:imports:job", pk=job.pk)


@login_required
@require_POST
def close_period(request, pk: int):
    period = selectors.get_period(request.user, pk)
    try:
        services.close_period(period, by=request.user,
                              expected_version=posted_version(request.POST))
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, f"{period} is closed; its statements are locked.")
    return redirect("web:comp:periods")


PAYROLL_FILES = {"csv": (payroll_files.payroll_csv, "text/csv; charset=utf-8"),
                 "xlsx": (payroll_files.payroll_xlsx, payroll_files.XLSX_CONTENT_TYPE)}


@login_required
def payroll(request, pk: int, fmt: str):
    period = selectors.get_period(request.user, pk)
    write, content_type = PAYROLL_FILES[fmt]
    try:
        body = write(request.user, period)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect("web:comp:periods")
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="{payroll_files.filename(period, fmt)}"')
    return response


@login_required
def what_if(request):
    """A draft plan over a past period beside the plans in force."""
    require_or_403(request.user, "comp_cost", "view")
    plans = selectors.plans(request.user).filter(status=PlanStatus.DRAFT)
    periods_list = CompPeriod.objects.order_by("-starts")
    result, error = None, ""
    plan_id, period_id = request.GET.get("plan"), request.GET.get("period")
    if plan_id and period_id:
        try:
            result = selectors.what_if(request.user, selectors.get_plan(request.user, plan_id),
                                       selectors.get_period(request.user, period_id))
        except ValidationError as exc:
            error = _errors(exc)
    return render(request, "compensation/what_if.html", {
        "nav_section": "comp_what_if", "plans": plans, "periods": periods_list,
        "result": result, "error": error, "plan_id": plan_id, "period_id": period_id,
        "draft_cos": result.cost_of_sales(result.draft_cost) if result else None,
        "current_cos": result.cost_of_sales(result.current_cost) if result else None})


def _pdf(html: str, name: str) -> HttpResponse:
    response = HttpResponse(html_to_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@login_required
def plan_pdf(request, pk: int):
    """The plan document as PDF, as the rep reads and accepts it."""
    plan = selectors.get_plan(request.user, pk)
    html = render_to_string("compensation/plan_pdf.html", {
        "plan": plan, "acceptance": selectors.accepted(plan, request.user)})
    return _pdf(html, f"plan-{plan.pk}-v{plan.number}.pdf")


@login_required
def statement_pdf(request, pk: int):
    """A statement as PDF: totals, lines with their rules, attainment and next tier."""
    found = selectors.get_statement(request.user, pk)
    html = render_to_string("compensation/statement_pdf.html", {
        "statement": found, "lines": list(found.lines.all())})
    return _pdf(html, f"statement-{found.period.starts}-{found.rep.username}.pdf")


@login_required
def accrual_page(request):
    """What the plans are expected to pay for the rest of the year, with its range and how
    it was made (managers for their people, admins and executives for everyone)."""
    require_or_403(request.user, "comp_accrual", "view")
    result = accrual.accrual(request.user)
    return render(request, "compensation/accrual.html", {
        "nav_section": "comp_accrual", "result": result, "totals": result.totals()})


def _score_posted(request, period) -> None:
    """Save one row of the scoring form: a first score, or a change with its version."""
    score_id = request.POST.get("score_id")
    if score_id:
        mbo.change_mbo_score(mbo.get_score(request.user, score_id), by=request.user,
                             score_pct=request.POST.get("score_pct", ""),
                             note=request.POST.get("note", ""),
                             expected_version=posted_version(request.POST))
        return
    rep = get_from(User.objects.filter(is_active=True), request.POST.get("rep_id"), "rep")
    mbo.score_mbo(by=request.user, rep=rep, period=period,
                  component=request.POST.get("component", ""),
                  score_pct=request.POST.get("score_pct", ""), note=request.POST.get("note", ""))


@login_required
def mbo_scores(request):
    """Score the MBOs of my people for an open period (managers, admins)."""
    require_or_403(request.user, "comp_mbo_score", "score")
    periods_list = list(CompPeriod.objects.filter(status=PeriodStatus.OPEN).order_by("starts"))
    chosen = next((p for p in periods_list if str(p.pk) == request.GET.get("period")),
                  periods_list[0] if periods_list else None)
    if request.method == "POST" and chosen is not None:
        try:
            _score_posted(request, chosen)
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        else:
            messages.success(request, "The score is saved; the statement is calculated again.")
        return redirect(f"{request.path}?period={chosen.pk}")
    return render(request, "compensation/mbo_scores.html", {
        "nav_section": "comp_team", "periods": periods_list, "chosen": chosen,
        "rows": mbo.to_score(request.user, chosen) if chosen else []})
