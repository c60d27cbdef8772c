"""Request and response bodies of the quotes API's record-kit types (the discount
approval matrix); the quote's own bodies are still in api.py."""

from decimal import Decimal
from typing import Annotated

from ninja import Field, Schema

from salesplan.core.api_support import InputSchema, Version, choice_of

from .models import ApproverLevel, RuleMetric

Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=7, decimal_places=4)]


class ApprovalRuleOut(Schema):
    id: int
    name: str
    metric: str
    threshold_pct: Decimal
    approver: str
    step: int
    active: bool
    version: int


class ApprovalRuleIn(InputSchema):
    name: str = Field(min_length=1, max_length=120)
    metric: choice_of(RuleMetric)
    threshold_pct: Percent = Decimal(0)
    approver: choice_of(ApproverLevel)
    step: int = Field(1, ge=1, le=9)
    active: bool = True


class ApprovalRulePatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=120)
    metric: choice_of(RuleMetric) | None = None
    threshold_pct: Percent | None = None
    approver: choice_of(ApproverLevel) | None = None
    step: int | None = Field(None, ge=1, le=9)
    active: bool | None = None
    version: Version
