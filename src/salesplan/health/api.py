"""API of the health app (mounted at /api/v1/health).

    GET   /accounts/{id}             an account's score with each component and its reason
    POST  /accounts/{id}/recompute   score one account now
    GET   /at-risk                   accounts at risk you can see (sort, cursor pages)
    GET   /renewals?days=90          renewals due in the window
    POST  /compute                   start the background job that scores every account
"""

from datetime import datetime
from typing import Literal

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema

from salesplan.core.api_support import MoneyOut, RecordId
from salesplan.core.clock import company_today
from salesplan.core.jobs_api import ACCEPTED, accepted
from salesplan.core.listing import Page

from . import selectors, services
from .models import AccountHealth

router = Router(tags=["health"])


class HealthComponentOut(Schema):
    key: str
    label: str
    points: int
    max_points: int
    reason: str


class HealthOut(Schema):
    account_id: int
    account_name: str
    score: int | None = Field(description="0–100; null until computed.")
    previous_score: int | None
    change: int | None
    at_risk: bool
    computed_at: datetime | None
    components: list[HealthComponentOut]


class AtRiskOut(Schema):
    account_id: int
    account_name: str
    owner_id: int
    score: int
    change: int
    reasons: str
    computed_at: datetime


class AtRiskPage(Schema):
    items: list[AtRiskOut]
    next_cursor: str | None
    previous_cursor: str | None


class AtRiskParams(Schema):
    sort: Literal["score", "-score", "change", "name"] = "score"
    cursor: str | None = Field(None, max_length=1000)
    limit: int | None = Field(None, ge=1, le=500)


class RenewalOut(Schema):
    due: str
    kind: str
    opportunity_id: int
    opportunity_name: str
    account_id: int
    account_name: str
    owner_id: int
    amount: MoneyOut
    currency: str


class RenewalsOut(Schema):
    days: int
    total: int
    items: list[RenewalOut]


def _health_out(account, row: AccountHealth | None) -> dict:
    return {
        "account_id": account.pk, "account_name": account.name,
        "score": row.score if row else None,
        "previous_score": row.previous_score if row else None,
        "change": row.change if row and row.previous_score is not None else None,
        "at_risk": row is not None and services.engine.is_at_risk(row.score,
                                                                    row.previous_score),
        "computed_at": row.computed_at if row else None,
        "components": [c.__dict__ for c in selectors.components(row)] if row else [],
    }


@router.get("/accounts/{id}", response=HealthOut, summary="An account's health with reasons")
def account_health(request, id: RecordId):
    account, row = selectors.account_health(request.user, id)
    return _health_out(account, row)


@router.post("/accounts/{id}/recompute", response=HealthOut, summary="Score one account now")
def recompute(request, id: RecordId):
    account, _ = selectors.account_health(request.user, id)
    row = services.recompute_account(account, by=request.user)
    return _health_out(account, row)


@router.get("/at-risk", response=AtRiskPage, summary="Accounts at risk you can see")
def at_risk(request, params: Query[AtRiskParams]):
    page: Page = selectors.at_risk_page(request.user, sort=params.sort, cursor=params.cursor,
                                        limit=params.limit)
    return {"items": [{"account_id": r.account_id, "account_name": r.account.name,
                       "owner_id": r.account.owner_id, "score": r.score, "change": r.change,
                       "reasons": selectors.reasons_summary(r), "computed_at": r.computed_at}
                      for r in page.items],
            "next_cursor": page.next_cursor, "previous_cursor": page.previous_cursor}


@router.get("/renewals", response=RenewalsOut, summary="Renewals due in the next days")
def renewals(request, days: int = Query(90, ge=1, le=selectors.MAX_RENEWAL_DAYS)):
    rows, total = selectors.renewals(request.user, today=company_today(), days=days)
    return {"days": days, "total": total, "items": [
        {"due": r.due.isoformat(), "kind": r.kind, "opportunity_id": r.opportunity.pk,
         "opportunity_name": r.opportunity.name, "account_id": r.opportunity.account_id,
         "account_name": r.opportunity.account.name, "owner_id": r.opportunity.owner_id,
         "amount": r.amount, "currency": r.opportunity.currency} for r in rows]}


@router.post("/compute", **ACCEPTED,
             summary="Score every account (background job)")
def compute(request, response: HttpResponse):
    job = services.start_compute(by=request.user)
    return accepted(response, job)
