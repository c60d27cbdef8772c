"""API for quotes (mounted at /api/v1/quotes).

    GET/POST          /                                 quotes you may see; start a draft
    GET/PATCH/DELETE  /{id}                             one quote (PATCH: title and terms of a
                                                        draft, never the status)
    GET/POST          /{id}/lines                       the current version's priced lines; add
    PATCH/DELETE      /{id}/lines/{line_id}             change a line's quantity or discount
    GET/POST          /{id}/versions                    all versions; start the next one
    GET               /{id}/versions/{number}           one version with its lines
    POST              /{id}/submit|send|accept|reject   status transitions
    GET               /{id}/approvals                   the approvals the quote needs, and why
    POST              /{id}/approvals/{aid}/approve|reject
    GET               /{id}/pdf                         the proposal PDF (?version=n)
    GET               /{id}/audit                       who changed what, newest first
    GET               /approvals/inbox                  approvals waiting for you
    /approval-rules                                     the discount approval matrix, from
                                                        the record kit (admins change it)
    GET/PUT           /proposal-template                the PDF template override (admins)

Every line change re-prices the whole version (a contract, tier or floor may change what
the other lines cost); lines keep their ids, and their positions close up when one is
removed.
"""

from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from ninja import Field, Query, Router, Schema, Status

from salesplan.core.api_support import (
    AuditPage,
    Currency,
    InputSchema,
    MoneyOut,
    PageParams,
    RecordId,
    Version,
    VersionParam,
    get_record,
)
from salesplan.core.audit import history_for
from salesplan.core.errors import NotFound
from salesplan.core.listing import keyset_page
from salesplan.core.record_kit import Actions, RecordType, install
from salesplan.pipeline.models import Opportunity, Stage

from . import access, selectors, services, settings_services
from .models import (
    Approval,
    ApprovalRule,
    Quote,
    QuoteLine,
    QuoteStatus,
    QuoteVersion,
)
from .pdf import built_in_html, render_pdf, template_settings
from .schemas import ApprovalRuleIn, ApprovalRuleOut, ApprovalRulePatch, Percent

router = Router(tags=["quotes"])

Quantity = Annotated[Decimal, Field(gt=0, le=Decimal("1000000000"), max_digits=14,
                                    decimal_places=4)]


# --- Schemas ----------------------------------------------------------------------------


class LineOut(Schema):
    """A priced line. `unit_cost`, `margin` and `margin_pct` are for the sales team only;
    the proposal PDF never shows them."""

    id: int
    position: int
    product_id: int | None
    sku: str
    name: str
    unit: str
    quantity: Decimal
    requested_discount_pct: Decimal
    list_unit_price: Decimal
    net_unit_price: Decimal
    discount_pct: Decimal
    line_net: MoneyOut
    tax_rate: Decimal
    tax_amount: MoneyOut
    line_total: MoneyOut
    unit_cost: Decimal | None
    margin: MoneyOut | None
    margin_pct: Decimal | None
    floor_price: Decimal | None
    below_floor: bool
    below_min_margin: bool
    explanation: list[str]

    @staticmethod
    def resolve_explanation(line: QuoteLine) -> list[str]:
        return [part for part in line.explanation.split("\n") if part]


class VersionOut(Schema):
    number: int
    closed_status: str
    contact_id: int | None
    currency: str
    price_book_id: int | None
    tax_region: str
    valid_until: date
    payment_terms: str
    delivery_terms: str
    introduction: str
    priced_on: date | None
    subtotal: MoneyOut
    discount_total: MoneyOut
    tax_total: MoneyOut
    total: MoneyOut
    prices_include_tax: bool
    tax_label: str
    max_discount_pct: Decimal
    min_margin_pct: Decimal | None
    created_at: datetime


class VersionDetailOut(VersionOut):
    lines: list[LineOut]

    @staticmethod
    def resolve_lines(version: QuoteVersion) -> list[QuoteLine]:
        return list(version.lines.order_by("position"))


class QuoteOut(Schema):
    id: int
    number: str
    title: str
    opportunity_id: int
    opportunity_name: str
    account_name: str
    owner_id: int
    status: str
    current_number: int
    currency: str
    total: MoneyOut
    sent_at: datetime | None
    decided_at: datetime | None
    version: int
    created_at: datetime

    @staticmethod
    def resolve_opportunity_name(quote: Quote) -> str:
        return quote.opportunity.name

    @staticmethod
    def resolve_account_name(quote: Quote) -> str:
        return quote.opportunity.account.name


class QuoteDetailOut(QuoteOut):
    current: VersionDetailOut


class QuotePage(Schema):
    items: list[QuoteOut]
    next_cursor: str | None
    previous_cursor: str | None


class QuoteVersionIn(InputSchema):
    """A change to a quote carries the quote's `version` you read: its lines, terms,
    status and approvals move it on, so a change made from an older read is refused."""

    version: Version


class NewLineIn(InputSchema):
    """A line of a quote being created (the quote has no version yet)."""

    product_id: RecordId
    quantity: Quantity
    discount_pct: Percent = Decimal(0)


class LineIn(NewLineIn, QuoteVersionIn):
    """A line added to an existing quote, with the quote's version you read."""


class LinePatch(QuoteVersionIn):
    quantity: Quantity | None = None
    discount_pct: Percent | None = None


class QuoteIn(InputSchema):
    opportunity_id: RecordId
    title: str = Field("", max_length=200)
    contact_id: RecordId | None = None
    currency: Currency | None = None
    price_book_id: RecordId | None = None
    tax_region: str = Field("", max_length=40)
    valid_until: date | None = None
    payment_terms: str = Field("", max_length=500)
    delivery_terms: str = Field("", max_length=500)
    introduction: str = Field("", max_length=5000)
    lines: list[NewLineIn] = Field(default_factory=list, max_length=2000)


class QuotePatch(InputSchema):
    title: str | None = Field(None, min_length=1, max_length=200)
    contact_id: RecordId | None = None
    currency: Currency | None = None
    price_book_id: RecordId | None = None
    tax_region: str | None = Field(None, max_length=40)
    valid_until: date | None = None
    payment_terms: str | None = Field(None, max_length=500)
    delivery_terms: str | None = Field(None, max_length=500)
    introduction: str | None = Field(None, max_length=5000)
    version: Version


class AcceptIn(QuoteVersionIn):
    stage_id: RecordId | None = Field(None, description="Move the opportunity to this stage "
                                                        "instead of its pipeline's won stage.")


class ReasonIn(QuoteVersionIn):
    reason: str = Field("", max_length=1000)


class QuoteCommentIn(QuoteVersionIn):
    comment: str = Field("", max_length=2000)


class ApprovalOut(Schema):
    id: int
    quote_id: int
    quote_number: str
    version_number: int
    step: int
    approver: str
    approver_label: str
    assignee_id: int | None = Field(..., description="The person who must sign; null: an "
                                                     "administrator.")
    status: str
    reasons: list[dict]
    decided_by_id: int | None
    decided_for_id: int | None = Field(..., description="Whom an administrator signed for.")
    decided_at: datetime | None
    comment: str
    can_decide: bool = False

    @staticmethod
    def resolve_quote_id(a: Approval) -> int:
        return a.quote_version.quote_id

    @staticmethod
    def resolve_quote_number(a: Approval) -> str:
        return a.quote_version.quote.number

    @staticmethod
    def resolve_version_number(a: Approval) -> int:
        return a.quote_version.number

    @staticmethod
    def resolve_approver_label(a: Approval) -> str:
        return a.get_approver_display()


class InboxItemOut(Schema):
    approval: ApprovalOut
    quote: QuoteOut
    lines: list[LineOut]



class TemplateOut(Schema):
    html: str
    is_built_in: bool
    built_in_html: str
    primary_colour: str
    accent_colour: str


class TemplateIn(InputSchema):
    html: str = Field("", max_length=200_000, description="Empty for the built-in template.")
    primary_colour: str | None = Field(None, max_length=7)
    accent_colour: str | None = Field(None, max_length=7)


class ListParams(PageParams):
    status: Literal[tuple(QuoteStatus.values)] | None = None
    opportunity_id: int | None = Field(None, ge=1)


# --- Helpers -------------------------------------------------------------------------------


def _quote(request, pk: int) -> Quote:
    return access.get_quote(request.auth, pk)


def _detail(quote: Quote) -> Quote:
    quote = Quote.objects.select_related("opportunity", "opportunity__account").get(pk=quote.pk)
    quote.current = services.current_version(quote)  # type: ignore[attr-defined]
    return quote


def _terms(request, data: dict) -> dict:
    return services.resolve_terms(request.auth, data)


@contextmanager
def _client_names():
    """Errors about the price book name the field the client sent."""
    try:
        yield
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "price_book" in exc.error_dict:
            errors = exc.message_dict
            errors["price_book_id"] = errors.pop("price_book")
            raise ValidationError(errors) from exc
        raise


def _line(quote: Quote, line_id: int) -> QuoteLine:
    line = QuoteLine.objects.filter(
        pk=line_id, quote_version__quote=quote,
        quote_version__number=quote.current_number).first()
    if line is None:
        raise NotFound(f"No line {line_id} on the current version of quote {quote.number}.")
    return line


def _approval(quote: Quote, approval_id: int) -> Approval:
    approval = Approval.objects.select_related("quote_version", "quote_version__quote").filter(
        pk=approval_id, quote_version__quote=quote).first()
    if approval is None:
        raise NotFound(f"No approval {approval_id} on quote {quote.number}.")
    return approval


def _approval_out(approval: Approval, user, quote: Quote) -> Approval:
    approval.can_decide = (  # type: ignore[attr-defined]
        approval.status == "pending" and access.can_decide(user, approval, quote))
    return approval


# --- Static routes first (they would otherwise read as a quote id) --------------------------


@router.get("/approvals/inbox", response=list[InboxItemOut])
def approval_inbox(request):
    """Approvals waiting for you now (their turn has come), with the lines and the rules
    that triggered them."""
    items = []
    for approval in selectors.approval_inbox(request.auth):
        quote = approval.quote_version.quote
        items.append({"approval": _approval_out(approval, request.auth, quote),
                      "quote": quote, "lines": list(approval.quote_version.lines.all())})
    return items


# The discount approval matrix, in step order: everyone reads it, admins change it;
# approvals already asked for stay when a rule is removed.
approval_rules = RecordType(
    name="approval_rule", plural="approval_rules", path="approval-rules",
    id_param="rule_id", label="approval rule", resource="quote_settings",
    actions=Actions(view="view", create="change", change="change", delete="change"),
    model=ApprovalRule, rows=selectors.approval_rules, out=ApprovalRuleOut, paged=False,
    create_in=ApprovalRuleIn, create=settings_services.create_rule,
    patch_in=ApprovalRulePatch, update=settings_services.update_rule,
    prepare=lambda user, data: {k: v for k, v in data.items() if v is not None},
    delete=settings_services.delete_rule)

install(router, "/quotes", [approval_rules])


def _template_out() -> dict:
    template = template_settings()
    built_in = built_in_html()
    return {"html": template.html or built_in, "is_built_in": not template.html,
            "built_in_html": built_in, "primary_colour": template.primary_colour,
            "accent_colour": template.accent_colour}


@router.get("/proposal-template", response=TemplateOut)
def get_proposal_template(request):
    """The HTML template proposals are printed from, and its colours."""
    return _template_out()


@router.put("/proposal-template", response=TemplateOut)
def put_proposal_template(request, payload: TemplateIn):
    """Replace the template (admins); it is saved only once it renders a PDF. Send an empty
    `html` to go back to the built-in template."""
    settings_services.save_template(by=request.auth, html=payload.html,
                                    primary_colour=payload.primary_colour,
                                    accent_colour=payload.accent_colour)
    return _template_out()


# --- Quotes --------------------------------------------------------------------------------


@router.get("", response=QuotePage)
def list_quotes(request, params: Query[ListParams]):
    """The quotes you may see, newest first, one cursor page at a time."""
    queryset = selectors.quote_list(request.auth, status=params.status,
                                    opportunity_id=params.opportunity_id)
    page = keyset_page(queryset, sort_field="-created_at", sort_key="-created_at",
                       cursor=params.cursor, limit=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "previous_cursor": page.previous_cursor}


@router.post("", response={201: QuoteDetailOut})
def create_quote(request, payload: QuoteIn, response: HttpResponse):
    """Start a draft quote for an opportunity you may change; the lines are priced."""
    opportunity = get_record(Opportunity, request.auth, payload.opportunity_id)
    data = payload.model_dump(exclude_unset=True)
    data.pop("opportunity_id")
    lines = data.pop("lines", [])
    title = data.pop("title", "")
    with _client_names():
        quote = services.create_quote(by=request.auth, opportunity=opportunity, title=title,
                                      lines=lines, **_terms(request, data))
    response["Location"] = f"/api/v1/quotes/{quote.pk}"
    return Status(201, _detail(quote))


@router.get("/{int:quote_id}", response=QuoteDetailOut)
def get_quote(request, quote_id: int):
    """One quote with its current version and priced lines."""
    return _detail(_quote(request, quote_id))


@router.patch("/{int:quote_id}", response=QuoteDetailOut)
def update_quote(request, quote_id: int, payload: QuotePatch):
    """Change the title or terms of a draft. A sent quote is not edited: start a new
    version. The status changes only through its own actions."""
    quote = _quote(request, quote_id)
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    with _client_names():
        services.update_quote(quote, by=request.auth, data=_terms(request, data),
                              expected_version=version)
    return _detail(quote)


@router.delete("/{int:quote_id}", response={204: None})
def delete_quote(request, quote_id: int, version: VersionParam):
    """Delete a draft that never went further (`?version=` the quote's version you read)."""
    services.delete_quote(_quote(request, quote_id), by=request.auth, expected_version=version)
    return Status(204, None)


@router.get("/{int:quote_id}/audit", response=AuditPage)
def quote_audit(request, quote_id: int, params: Query[PageParams]):
    """Who changed what on the quote (terms, lines, every status change), newest first."""
    quote = _quote(request, quote_id)
    page = keyset_page(history_for(quote), sort_field="-changed_at", sort_key="-changed_at",
                       cursor=params.cursor, limit=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "previous_cursor": page.previous_cursor}


@router.get("/{int:quote_id}/lines", response=list[LineOut])
def list_lines(request, quote_id: int):
    """The current version's lines, as priced (with the explanation of each price)."""
    quote = _quote(request, quote_id)
    return list(services.current_version(quote).lines.order_by("position"))


@router.post("/{int:quote_id}/lines", response={201: LineOut})
def add_line(request, quote_id: int, payload: LineIn):
    """Add a product to a draft; the whole quote is re-priced."""
    quote = _quote(request, quote_id)
    data = payload.model_dump()
    version = data.pop("version")
    return Status(201, services.add_line(quote, by=request.auth, expected_version=version,
                                         **data))


@router.patch("/{int:quote_id}/lines/{int:line_id}", response=LineOut)
def update_line(request, quote_id: int, line_id: int, payload: LinePatch):
    quote = _quote(request, quote_id)
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    return services.update_line(quote, _line(quote, line_id), by=request.auth,
                                expected_version=version, **data)


@router.delete("/{int:quote_id}/lines/{int:line_id}", response={204: None})
def delete_line(request, quote_id: int, line_id: int, version: VersionParam):
    quote = _quote(request, quote_id)
    services.remove_line(quote, _line(quote, line_id), by=request.auth,
                         expected_version=version)
    return Status(204, None)


@router.get("/{int:quote_id}/versions", response=list[VersionOut])
def list_versions(request, quote_id: int):
    """Every version of the quote, newest first; older ones stay as they were."""
    return list(_quote(request, quote_id).versions.order_by("-number"))


@router.post("/{int:quote_id}/versions", response={201: VersionDetailOut})
def create_version(request, quote_id: int, payload: QuoteVersionIn):
    """Start the next version as a draft, copying the current one's terms and lines."""
    return Status(201, services.new_version(_quote(request, quote_id), by=request.auth,
                                            expected_version=payload.version))


@router.get("/{int:quote_id}/versions/{int:number}", response=VersionDetailOut)
def get_version(request, quote_id: int, number: int):
    version = _quote(request, quote_id).versions.filter(number=number).first()
    if version is None:
        raise NotFound(f"No version {number} of this quote.")
    return version


def _transition(action: str, doc: str):
    def handler(request, quote_id: int, payload: QuoteVersionIn):
        quote = _quote(request, quote_id)
        services.TRANSITIONS[action](quote, by=request.auth, expected_version=payload.version)
        return _detail(quote)

    handler.__name__ = handler.__qualname__ = f"{action}_quote"
    handler.__doc__ = doc
    router.post(f"/{{int:quote_id}}/{action}", response=QuoteDetailOut)(handler)


_transition("submit", "Submit a draft: approved at once if the matrix asks for nothing, "
                      "otherwise in approval until every required approval is given.")
_transition("send", "Mark the quote sent to the customer (approved, or a draft that needs "
                    "no approval).")


@router.post("/{int:quote_id}/accept", response=QuoteDetailOut)
def accept_quote(request, quote_id: int, payload: AcceptIn):
    """The customer accepted: the opportunity is won (or moved to `stage_id`) with the
    quote's total as its amount. One quote per opportunity can be accepted."""
    quote = _quote(request, quote_id)
    stage = None
    if payload.stage_id is not None:
        stage = Stage.objects.filter(pk=payload.stage_id).first()
        if stage is None:
            raise ValidationError({"stage_id": f"No stage with id {payload.stage_id}."})
    services.accept_quote(quote, by=request.auth, stage=stage, expected_version=payload.version)
    return _detail(quote)


@router.post("/{int:quote_id}/reject", response=QuoteDetailOut)
def reject_quote(request, quote_id: int, payload: ReasonIn):
    """The customer declined the quote."""
    quote = _quote(request, quote_id)
    services.reject_quote(quote, by=request.auth, reason=payload.reason,
                          expected_version=payload.version)
    return _detail(quote)


@router.get("/{int:quote_id}/approvals", response=list[ApprovalOut])
def list_approvals(request, quote_id: int):
    """The approvals of the current version: step, who, status and why."""
    quote = _quote(request, quote_id)
    approvals = Approval.objects.select_related("quote_version", "quote_version__quote").filter(
        quote_version__quote=quote, quote_version__number=quote.current_number)
    return [_approval_out(a, request.auth, quote) for a in approvals]


@router.post("/{int:quote_id}/approvals/{int:approval_id}/approve", response=ApprovalOut)
def approve(request, quote_id: int, approval_id: int, payload: QuoteCommentIn):
    """Give an approval (its earlier steps must be approved)."""
    quote = _quote(request, quote_id)
    approval = _approval(quote, approval_id)
    services.approve(approval, by=request.auth, comment=payload.comment,
                     expected_version=payload.version)
    return _approval_out(_approval(quote, approval_id), request.auth, quote)


@router.post("/{int:quote_id}/approvals/{int:approval_id}/reject", response=ApprovalOut)
def reject_approval(request, quote_id: int, approval_id: int, payload: QuoteCommentIn):
    """Refuse an approval with a comment; the quote goes back to draft."""
    quote = _quote(request, quote_id)
    approval = _approval(quote, approval_id)
    services.reject_approval(approval, by=request.auth, comment=payload.comment,
                             expected_version=payload.version)
    return _approval_out(_approval(quote, approval_id), request.auth, quote)


@router.get("/{int:quote_id}/pdf", response={200: None})
def quote_pdf(request, quote_id: int, version: int | None = None):
    """The proposal as a PDF (the current version, or `?version=n`)."""
    quote = _quote(request, quote_id)
    number = version or quote.current_number
    quote_version = quote.versions.filter(number=number).first()
    if quote_version is None:
        raise NotFound(f"No version {number} of this quote.")
    response = HttpResponse(render_pdf(quote, quote_version), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{quote.number}-v{number}.pdf"'
    return response
