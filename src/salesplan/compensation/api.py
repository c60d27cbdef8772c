"""Compensation API (/api/v1/comp): plans, periods and crediting rules (record kit),
calculation and close, statements with their explained lines, disputes, adjustments,
deal splits, payroll export and what-if.

    GET/POST/PATCH/DELETE  /plans, /periods, /credit-rules   (record kit)
    POST  /plans/{id}/activate, /plans/{id}/accept
    POST  /periods/{id}/calculate (202, a job), /periods/{id}/close
    GET   /periods/{id}/payroll.csv, /periods/{id}/payroll.xlsx
    GET   /statements, /statements/{id}, /statements/{id}/lines/{position}
    POST  /statements/{id}/lines/{position}/disputes
    GET   /disputes; POST /disputes/{id}/answer, /disputes/{id}/resolve
    POST  /adjustments; PUT /deals/{id}/splits; GET /what-if
    GET/POST /mbo-scores; PATCH /mbo-scores/{id}
    GET   /accrual
    GET   /contests?team_id=, /contests/{key}?team_id=  (SPIFF standings)
    GET/PUT /contest-settings/{team_id}
"""

from typing import Any

from django.http import HttpResponse
from ninja import Query, Router, Status

from salesplan.core.clock import company_today
from salesplan.core.errors import VersionRequired
from salesplan.core.jobs_api import ACCEPTED, accepted
from salesplan.core.record_kit import Actions, RecordType, install
from salesplan.core.selectors import get_from
from salesplan.org.models import User
from salesplan.pipeline.models import Opportunity

from . import accrual, contests, mbo, payroll, selectors, services
from .models import CompCreditRule, CompPeriod, CompPlan
from .schemas import (
    AcceptanceOut,
    CompAccrualOut,
    CompAdjustmentIn,
    CompAdjustmentOut,
    CompPeriodIn,
    CompPeriodOut,
    CompPlanDetailOut,
    CompPlanIn,
    CompPlanOut,
    CompPlanPatch,
    CompWhatIfOut,
    ContestParams,
    ContestSettingIn,
    ContestSettingOut,
    ContestsOut,
    CreditRuleIn,
    CreditRuleOut,
    CreditRulePatch,
    DisputeAnswerIn,
    DisputeIn,
    DisputeOut,
    DisputeParams,
    DisputeResolveIn,
    LineDetailOut,
    MboScoreIn,
    MboScoreOut,
    MboScoreParams,
    MboScorePatch,
    SplitOut,
    SplitsIn,
    StandingsOut,
    StatementDetailOut,
    StatementOut,
    StatementParams,
    VersionIn,
    WhatIfParams,
)

router = Router(tags=["compensation"])


def _person(user, pk):
    return None if pk is None else get_from(User.objects.filter(is_active=True), pk, "person")


def _plan(user, pk):
    return None if pk is None else selectors.get_plan(user, pk)


def _plan_data(user, data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None or k in ("person",)}


plans = RecordType(
    name="comp_plan", plural="comp_plans", path="plans", id_param="plan_id",
    resource="comp_plan", actions=Actions(view="view", create="manage", change="manage",
                                          delete="manage"),
    model=CompPlan, rows=selectors.plans, out=CompPlanOut, detail_out=CompPlanDetailOut,
    paged=False, label="compensation plan", create_in=CompPlanIn, patch_in=CompPlanPatch,
    references={"person_id": _person, "supersedes_id": _plan}, prepare=_plan_data,
    create=services.create_plan, update=services.update_plan, delete=services.delete_plan)

periods = RecordType(
    name="comp_period", plural="comp_periods", path="periods", id_param="period_id",
    resource="comp_period", actions=Actions(view="view", create="manage"),
    model=CompPeriod, rows=selectors.periods, out=CompPeriodOut, paged=False,
    label="pay period", create_in=CompPeriodIn, create=services.create_period)

credit_rules = RecordType(
    name="comp_credit_rule", plural="comp_credit_rules", path="credit-rules",
    id_param="rule_id", resource="comp_credit_rule",
    actions=Actions(view="view", create="manage", change="manage", delete="manage"),
    model=CompCreditRule, rows=selectors.credit_rules, out=CreditRuleOut, paged=False,
    label="crediting rule", create_in=CreditRuleIn, patch_in=CreditRulePatch,
    create=services.create_credit_rule, update=services.update_credit_rule,
    delete=services.delete_credit_rule,
    prepare=lambda user, data: {k: v for k, v in data.items() if v is not None})

install(router, "/comp", [plans, periods, credit_rules])

@router.post("/plans/{int:plan_id}/activate", response=CompPlanOut)
def activate_comp_plan(request, plan_id: int, payload: VersionIn):
    """Put a draft plan in force from its effective date."""
    plan = selectors.get_plan(request.auth, plan_id)
    return services.activate_plan(plan, by=request.auth, expected_version=payload.version)


@router.post("/plans/{int:plan_id}/accept", response=AcceptanceOut)
def accept_comp_plan(request, plan_id: int):
    """Accept the plan document you have read (the plan must be yours)."""
    plan = selectors.get_plan(request.auth, plan_id)
    return services.accept_plan(plan, by=request.auth)


@router.post("/periods/{int:period_id}/calculate", **ACCEPTED)
def calculate_comp_period(request, response: HttpResponse, period_id: int):
    """Calculate every statement of an open period in the background; follow the job at
    its `Location`."""
    period = selectors.get_period(request.auth, period_id)
    return accepted(response, services.start_calculation(period, by=request.auth))


@router.post("/periods/{int:period_id}/close", response=CompPeriodOut)
def close_comp_period(request, period_id: int, payload: VersionIn):
    """Calculate once more and lock the period; later corrections land in the next open one."""
    period = selectors.get_period(request.auth, period_id)
    return services.close_period(period, by=request.auth, expected_version=payload.version)


@router.get("/periods/{int:period_id}/payroll.csv", response={200: str})
def export_comp_payroll(request, period_id: int):
    """The closed period's pay, one row per rep, for payroll (CSV)."""
    period = selectors.get_period(request.auth, period_id)
    body = payroll.payroll_csv(request.auth, period)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{payroll.filename(period, "csv")}"'
    return response


@router.get("/periods/{int:period_id}/payroll.xlsx", response={200: bytes})
def export_comp_payroll_xlsx(request, period_id: int):
    """The same rows as the CSV as an XLSX workbook: money cells are numbers with two
    decimals, the currency in its own column."""
    period = selectors.get_period(request.auth, period_id)
    body = payroll.payroll_xlsx(request.auth, period)
    response = HttpResponse(body, content_type=payroll.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{payroll.filename(period, "xlsx")}"'
    return response


@router.get("/statements", response=list[StatementOut])
def list_comp_statements(request, params: Query[StatementParams]):
    """The statements you may see (yours; your teams' as a manager), newest period first."""
    rows = selectors.statements(request.auth).order_by("-period__starts", "rep_id")
    if params.period_id:
        rows = rows.filter(period_id=params.period_id)
    if params.rep_id:
        rows = rows.filter(rep_id=params.rep_id)
    return list(rows[:500])


@router.get("/statements/{int:statement_id}", response=StatementDetailOut)
def get_comp_statement(request, statement_id: int):
    """One statement with its lines, attainment and what the next tier pays."""
    statement = selectors.get_statement(request.auth, statement_id)
    statement.line_rows = list(statement.lines.all())  # type: ignore[attr-defined]
    return statement


@router.get("/statements/{int:statement_id}/lines/{int:position}", response=LineDetailOut)
def explain_comp_line(request, statement_id: int, position: int):
    """Explain this figure: the deals, credit lines, rates and rule behind one line."""
    _, line = selectors.statement_line(request.auth, statement_id, position)
    return {"position": line.position, "kind": line.kind, "component": line.component,
            "label": line.label, "amount": line.amount, "rule": line.rule,
            "trace": line.trace, "deal_ids": sorted({t["deal_id"] for t in line.trace or ()})}


@router.post("/statements/{int:statement_id}/lines/{int:position}/disputes",
             response={201: DisputeOut})
def raise_comp_dispute(request, statement_id: int, position: int, payload: DisputeIn):
    """Dispute a line of your statement; your manager or an admin answers."""
    statement = selectors.get_statement(request.auth, statement_id)
    return Status(201, services.raise_dispute(statement, position, by=request.auth,
                                              text=payload.text))


@router.get("/disputes", response=list[DisputeOut])
def list_comp_disputes(request, params: Query[DisputeParams]):
    """Disputes on statements you may see, newest first."""
    return list(selectors.disputes(request.auth, status=params.status)[:500])


@router.post("/disputes/{int:dispute_id}/answer", response=DisputeOut)
def answer_comp_dispute(request, dispute_id: int, payload: DisputeAnswerIn):
    """Answer a dispute (the rep's manager or an admin)."""
    dispute = selectors.get_dispute(request.auth, dispute_id)
    return services.answer_dispute(dispute, by=request.auth, answer=payload.answer,
                                   expected_version=payload.version)


@router.post("/disputes/{int:dispute_id}/resolve", response=DisputeOut)
def resolve_comp_dispute(request, dispute_id: int, payload: DisputeResolveIn):
    """Resolve a dispute, saying how (the rep's manager or an admin)."""
    dispute = selectors.get_dispute(request.auth, dispute_id)
    return services.resolve_dispute(dispute, by=request.auth, resolution=payload.resolution,
                                    expected_version=payload.version)


@router.post("/adjustments", response={201: CompAdjustmentOut})
def add_comp_adjustment(request, payload: CompAdjustmentIn):
    """Adjust a rep's pay in an open period, with the reason (admins)."""
    rep = _person(request.auth, payload.rep_id)
    period = selectors.get_period(request.auth, payload.period_id)
    return Status(201, services.add_adjustment(by=request.auth, rep=rep, period=period,
                                               amount=payload.amount, reason=payload.reason))


@router.put("/deals/{int:opportunity_id}/splits", response=list[SplitOut])
def set_comp_splits(request, opportunity_id: int, payload: SplitsIn):
    """Replace a deal's credit splits (shares add up to 1; none: the owner holds it all)."""
    deal = get_from(Opportunity.objects.visible_to(request.auth), opportunity_id, "opportunity")
    splits = [(_person(request.auth, s.rep_id), s.share) for s in payload.splits]
    rows = services.set_splits(deal, by=request.auth, splits=splits)
    return [{"rep_id": row.rep_id, "share": row.share} for row in rows]


@router.get("/what-if", response=CompWhatIfOut)
def comp_what_if(request, params: Query[WhatIfParams]):
    """A draft plan over a past period beside the plans in force: cost, cost of sales
    (pay ÷ bookings) and each rep's gain or loss."""
    plan = selectors.get_plan(request.auth, params.plan_id)
    period = selectors.get_period(request.auth, params.period_id)
    result = selectors.what_if(request.auth, plan, period)
    return {"plan_id": plan.pk, "period_id": period.pk, "currency": plan.currency,
            "bookings": result.bookings, "current_cost": result.current_cost,
            "draft_cost": result.draft_cost,
            "current_cost_of_sales": result.cost_of_sales(result.current_cost),
            "draft_cost_of_sales": result.cost_of_sales(result.draft_cost),
            "rows": [{"rep_id": r.rep.pk, "rep": r.rep.get_full_name() or r.rep.username,
                      "bookings": r.bookings, "current": r.current, "draft": r.draft,
                      "change": r.change} for r in result.rows]}


@router.get("/mbo-scores", response=list[MboScoreOut])
def list_comp_mbo_scores(request, params: Query[MboScoreParams]):
    """MBO scores you may see (yours; your people's as a manager)."""
    rows = mbo.scores(request.auth).order_by("period__starts", "rep_id", "component")
    if params.period_id:
        rows = rows.filter(period_id=params.period_id)
    if params.rep_id:
        rows = rows.filter(rep_id=params.rep_id)
    return list(rows[:2000])


@router.post("/mbo-scores", response={201: MboScoreOut})
def score_comp_mbo(request, payload: MboScoreIn):
    """Score one MBO of a rep's plan for an open period (their manager or an admin); the
    statement is calculated again."""
    rep = _person(request.auth, payload.rep_id)
    period = selectors.get_period(request.auth, payload.period_id)
    return Status(201, mbo.score_mbo(by=request.auth, rep=rep, period=period,
                                     component=payload.component,
                                     score_pct=payload.score_pct, note=payload.note))


@router.patch("/mbo-scores/{int:score_id}", response=MboScoreOut)
def change_comp_mbo_score(request, score_id: int, payload: MboScorePatch):
    """Change a score, with the version you read."""
    score = mbo.get_score(request.auth, score_id)
    return mbo.change_mbo_score(score, by=request.auth, score_pct=payload.score_pct,
                                note=payload.note, expected_version=payload.version)


@router.get("/accrual", response=CompAccrualOut)
def comp_accrual(request):
    """What the plans are expected to pay from this month to the end of the fiscal year,
    per rep and month, with a low and a high figure; `method` says how they were made."""
    result = accrual.accrual(request.auth)
    return {"as_of": result.as_of, "through": result.through, "method": result.method,
            "totals": result.totals(), "not_counted": result.not_counted,
            "rows": [{"rep_id": r.rep.pk, "rep": r.rep.get_full_name() or r.rep.username,
                      "currency": r.currency, "expected": r.expected, "low": r.low,
                      "high": r.high, "months": r.months} for r in result.rows]}


def _contest_row(contest: contests.Contest, today) -> dict[str, Any]:
    return {"key": contest.key, "label": contest.label, "starts": contest.starts,
            "ends": contest.ends, "status": contest.status(today),
            "days_left": contest.days_left(today)}


@router.get("/contests", response=ContestsOut)
def list_comp_contests(request, params: Query[ContestParams]):
    """The SPIFF contests of a team's plans in force (none until its manager turns
    standings on)."""
    team = contests.get_team(request.auth, params.team_id)
    today = company_today()
    setting = contests.setting_of(team)
    return {"team_id": team.pk, "enabled": bool(setting and setting.enabled),
            "contests": [_contest_row(c, today)
                         for c in contests.contests(request.auth, team, today)]}


@router.get("/contests/{key}", response=StandingsOut)
def comp_contest_standings(request, key: str, params: Query[ContestParams]):
    """A contest's standings: rank, rep, qualifying deals, credited amount and payout so
    far, and the days left; a rep sees what the team's setting shows them (null figures
    are not theirs to see)."""
    team = contests.get_team(request.auth, params.team_id)
    today = company_today()
    contest, rows = contests.standings(request.auth, team, key, today)
    return {**_contest_row(contest, today), "team_id": team.pk,
            "visibility": contests.rep_visibility(request.auth, team),
            "rows": [{"rank": r.rank, "rep_id": r.rep.pk,
                      "rep": r.rep.get_full_name() or r.rep.username, "currency": r.currency,
                      "deals": r.deals, "amount": r.amount, "payout": r.payout}
                     for r in rows]}


def _setting_out(team, setting) -> dict[str, Any]:
    if setting is None:
        return {"team_id": team.pk, "enabled": False, "visibility": "managers", "version": 0}
    return {"team_id": team.pk, "enabled": setting.enabled, "visibility": setting.visibility,
            "version": setting.version}


@router.get("/contest-settings/{int:team_id}", response=ContestSettingOut)
def comp_contest_setting(request, team_id: int):
    """Whether the team shows contest standings and what its reps see (version 0: never
    set)."""
    team = contests.get_team(request.auth, team_id)
    return _setting_out(team, contests.setting_of(team))


@router.put("/contest-settings/{int:team_id}", response=ContestSettingOut)
def set_comp_contest_setting(request, team_id: int, payload: ContestSettingIn):
    """Turn the team's standings on or off and choose what its reps see (its manager or
    an admin); a change carries the version read (none for the first setting)."""
    team = contests.get_team(request.auth, team_id)
    if contests.setting_of(team) is not None and not payload.version:
        raise VersionRequired("version")
    setting = contests.set_contest_setting(
        team, by=request.auth, data={"enabled": payload.enabled,
                                     "visibility": payload.visibility},
        expected_version=payload.version or None)
    return _setting_out(team, setting)
