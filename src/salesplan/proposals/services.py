"""Every write to quotes: creating them, pricing their lines, new versions and each status
transition (submit, approve, reject an approval, send, accept, reject, expire).

Status changes are their own functions; an edit never changes a status, and only a draft
is edited. Every line change re-prices the whole version through the pricing engine, so
the stored totals always equal the sum of the stored lines. All writes are audited.
"""

import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from salesplan.core import audit
from salesplan.core.clock import company_today
from salesplan.core.permissions import require
from salesplan.core.records import claim_version
from salesplan.core.references import resolve_references
from salesplan.org.selectors import manager_chain
from salesplan.pipeline import services as pipeline_services
from salesplan.pipeline.models import Opportunity, Stage, StageKind
from salesplan.pricing.models import PriceBook
from salesplan.pricing.services import price_lines
from salesplan.pricing.types import LineRequest

from . import access, notices
from .approvals import active_rules, addressee, required_approvals
from .models import (
    Approval,
    ApprovalStatus,
    Quote,
    QuoteLine,
    QuoteStatus,
    QuoteVersion,
)

DEFAULT_VALIDITY_DAYS = 30
VERSION_FIELDS = {"contact", "currency", "price_book", "tax_region", "valid_until",
                  "payment_terms", "delivery_terms", "introduction"}
REPRICING_FIELDS = {"currency", "price_book", "tax_region"}
QUOTE_FIELDS = {"title"} | VERSION_FIELDS
POSITION_OFFSET = 1_000_000
SNAPSHOT_FIELDS = [
    "position", "product", "quantity", "requested_discount_pct", "sku", "name", "unit",
    "list_unit_price", "net_unit_price", "discount_pct", "line_net", "tax_rate", "tax_amount",
    "line_total", "unit_cost", "margin", "margin_pct", "floor_price", "below_floor",
    "below_min_margin", "explanation"]


def _lock(quote: Quote, expected_version: int | None = None) -> Quote:
    """Re-read the quote under a row lock and keep the caller's object in step. A change
    made by a person names the quote's version it was made from (lines, terms, status and
    approvals are all one quote to whoever edits it): StaleVersion if the quote moved on."""
    current = Quote.objects.select_for_update().get(pk=quote.pk)
    if expected_version is not None:
        claim_version(current, expected_version)
    for name in ("status", "version", "current_number", "total", "currency", "sent_at",
                 "decided_at", "title"):
        setattr(quote, name, getattr(current, name))
    return quote


def current_version(quote: Quote) -> QuoteVersion:
    return QuoteVersion.objects.select_related("contact", "price_book").get(
        quote=quote, number=quote.current_number)


def _require_status(quote: Quote, allowed: Sequence[str], doing: str) -> None:
    if quote.status in allowed:
        return
    if quote.status in (QuoteStatus.SENT, QuoteStatus.ACCEPTED) and doing == "changed":
        message = (f"Quote {quote.number} is {quote.get_status_display().lower()}: it can no "
                   "longer be changed. Create a new version to change it.")
    else:
        message = (f"Quote {quote.number} is {quote.get_status_display().lower()}: it cannot "
                   f"be {doing}.")
    raise ValidationError({"status": message})


def _set_status(quote: Quote, status: str, by, **fields: Any) -> None:
    old = quote.status
    quote.status = status
    for name, value in fields.items():
        setattr(quote, name, value)
    quote.version += 1
    quote.save(update_fields=["status", "version", "updated_at", *fields])
    audit.record_changes(quote, {"status": (old, status)}, by)


# --- Pricing -----------------------------------------------------------------------------


def _line_requests(lines: Sequence[dict]) -> list:

    return [LineRequest(product_id=line["product_id"], quantity=Decimal(line["quantity"]),
                        discount_pct=Decimal(line.get("discount_pct") or 0))
            for line in lines]


def _explanation_text(explanation: Any) -> str:
    if explanation is None:
        return ""
    if isinstance(explanation, str):
        return explanation
    return "\n".join(str(part) for part in explanation)


def _snapshot(version: QuoteVersion, request: dict, priced: Any, position: int) -> QuoteLine:
    return QuoteLine(
        quote_version=version, position=position, product_id=priced.product_id,
        quantity=Decimal(request["quantity"]),
        requested_discount_pct=Decimal(request.get("discount_pct") or 0),
        sku=priced.sku, name=priced.name, unit=priced.unit or "",
        list_unit_price=priced.list_unit_price, net_unit_price=priced.net_unit_price,
        discount_pct=priced.discount_pct, line_net=priced.line_net, tax_rate=priced.tax_rate,
        tax_amount=priced.tax_amount, line_total=priced.line_total, unit_cost=priced.unit_cost,
        margin=priced.margin, margin_pct=priced.margin_pct, floor_price=priced.floor_price,
        below_floor=bool(priced.below_floor), below_min_margin=bool(priced.below_min_margin),
        explanation=_explanation_text(priced.explanation),
    )


def price_version(version: QuoteVersion, lines: Sequence[dict], *, on_date: date) -> None:
    """Price these lines for the version and store them with the totals, in this order.
    A line given with the `id` of one of the version's lines keeps its id; the version's
    other lines are removed. Nothing is written when the engine refuses a line."""

    opportunity = version.quote.opportunity
    priced = price_lines(account=opportunity.account, currency=version.currency,
                         on_date=on_date, lines=_line_requests(lines),
                         price_book=version.price_book, tax_region=version.tax_region or None)
    rows = [_snapshot(version, request, line, position)
            for position, (request, line) in enumerate(zip(lines, priced.lines, strict=True),
                                                       start=1)]
    kept = {request["id"] for request in lines if request.get("id")}
    version.lines.exclude(pk__in=kept).delete()
    if kept:
        # Out of the way first, so no two lines hold one position while they move.
        version.lines.update(position=F("position") + POSITION_OFFSET)
    for request, row in zip(lines, rows, strict=True):
        row.pk = request.get("id")
    QuoteLine.objects.bulk_update([row for row in rows if row.pk], SNAPSHOT_FIELDS)
    QuoteLine.objects.bulk_create([row for row in rows if not row.pk])
    version.subtotal, version.discount_total = priced.subtotal, priced.discount_total
    version.tax_total, version.total = priced.tax_total, priced.total
    version.prices_include_tax = bool(priced.prices_include_tax)
    version.tax_label = priced.tax_label or ""
    version.max_discount_pct = priced.max_discount_pct or Decimal(0)
    version.min_margin_pct = priced.min_margin_pct
    version.priced_on = on_date
    if priced.price_book_id and version.price_book_id is None:
        version.price_book_id = priced.price_book_id
    version.save()
    quote = version.quote
    quote.total, quote.currency = version.total, version.currency
    quote.version += 1
    quote.save(update_fields=["total", "currency", "version", "updated_at"])


def line_requests_of(version: QuoteVersion) -> list[dict]:
    return [{"id": line.pk, "product_id": line.product_id, "quantity": line.quantity,
             "discount_pct": line.requested_discount_pct}
            for line in version.lines.order_by("position")]


# --- Creating and editing ------------------------------------------------------------------


def resolve_terms(user, data: dict[str, Any]) -> dict[str, Any]:
    """Turn `contact_id` and `price_book_id` sent by a client into records, or field errors
    (a contact must be one the user may see)."""

    data = dict(data)
    if "contact_id" in data:
        contact_id = data.pop("contact_id")
        data["contact"] = resolve_references(user, {"contact": contact_id})["contact"] \
            if contact_id else None
    if "price_book_id" in data:
        book_id = data.pop("price_book_id")
        book = PriceBook.objects.filter(pk=book_id).first() if book_id else None
        if book_id and book is None:
            raise ValidationError({"price_book_id": f"No price book with id {book_id}."})
        data["price_book"] = book
    return data


def _check_contact(opportunity: Opportunity, contact) -> None:
    if contact is not None and contact.account_id != opportunity.account_id:
        raise ValidationError({"contact": "The contact does not belong to the quote's account."})


@transaction.atomic
def create_quote(*, by, opportunity: Opportunity, title: str = "", lines: Sequence[dict] = (),
                 **terms: Any) -> Quote:
    """Start a draft quote for an opportunity (version 1), pricing any lines given."""
    require(by, "opportunity", "change", opportunity)
    unknown = sorted(set(terms) - VERSION_FIELDS)
    if unknown:
        raise ValidationError({f: "This field does not exist or cannot be set." for f in unknown})
    if opportunity.status != StageKind.OPEN:
        raise ValidationError({"opportunity": "The opportunity is closed; quote open deals."})
    today = company_today()
    terms.setdefault("currency", opportunity.currency)
    if terms.get("valid_until") is None:
        terms["valid_until"] = today + timedelta(days=DEFAULT_VALIDITY_DAYS)
    if terms["valid_until"] < today:
        raise ValidationError({"valid_until": "The validity date is in the past."})
    if "contact" not in terms and opportunity.contact_id:
        terms["contact"] = opportunity.contact
    _check_contact(opportunity, terms.get("contact"))
    quote = Quote.objects.create(
        number=f"new-{uuid.uuid4().hex[:16]}", opportunity=opportunity,
        title=title.strip() or opportunity.name, owner=by, currency=terms["currency"])
    quote.number = f"Q{quote.pk:06d}"
    quote.save(update_fields=["number"])
    version = QuoteVersion.objects.create(quote=quote, number=1, created_by=by,
                                          **{k: v for k, v in terms.items() if v is not None})
    if lines:
        price_version(version, lines, on_date=today)
    audit.record_created(quote, by)
    return quote


@transaction.atomic
def update_quote(quote: Quote, *, by, data: dict, expected_version: int | None = None) -> dict:
    """Change a draft's title or terms (never its status); a change of currency, price
    book or tax region re-prices its lines."""
    access.require_change(by, quote)
    if "status" in data:
        raise ValidationError({"status": "Change the status with its own action, not an edit."})
    unknown = sorted(set(data) - QUOTE_FIELDS)
    if unknown:
        raise ValidationError({f: "This field does not exist or cannot be set." for f in unknown})
    _lock(quote, expected_version)
    _require_status(quote, [QuoteStatus.DRAFT], "changed")
    version = current_version(quote)
    if "contact" in data:
        _check_contact(quote.opportunity, data["contact"])
    if data.get("valid_until") is not None and data["valid_until"] < company_today():
        raise ValidationError({"valid_until": "The validity date is in the past."})
    changes: dict[str, tuple[Any, Any]] = {}
    for name, value in data.items():
        if value is None and name in {"title", "valid_until", "currency"}:
            raise ValidationError({name: "This field cannot be empty."})
        target = quote if name == "title" else version
        old = getattr(target, name)
        if old != value:
            changes[name] = (old, value)
            setattr(target, name, value)
    if not changes:
        return {}
    book = version.price_book
    if "currency" in changes and book is not None and book.currency != version.currency:
        version.price_book = None  # the customer's book in the new currency applies
    version.save()
    quote.version += 1
    quote.save(update_fields=["title", "version", "updated_at"])
    if REPRICING_FIELDS & set(changes) and version.lines.exists():
        price_version(version, line_requests_of(version), on_date=company_today())
    audit.record_changes(quote, changes, by)
    return changes


@transaction.atomic
def set_lines(quote: Quote, *, by, lines: Sequence[dict]) -> QuoteVersion:
    """Replace the draft's lines with these and price them all."""
    access.require_change(by, quote)
    _lock(quote)
    _require_status(quote, [QuoteStatus.DRAFT], "changed")
    version = current_version(quote)
    price_version(version, lines, on_date=company_today())
    audit.record_changes(quote, {"lines": ("", f"{len(lines)} lines")}, by)
    return version


def add_line(quote: Quote, *, by, product_id: int, quantity: Decimal,
             discount_pct: Decimal = Decimal(0),
             expected_version: int | None = None) -> QuoteLine:
    """Add a product to the draft; every line is re-priced (tiers may depend on totals)."""
    with transaction.atomic():
        access.require_change(by, quote)
        _lock(quote, expected_version)
        _require_status(quote, [QuoteStatus.DRAFT], "changed")
        version = current_version(quote)
        lines = [*line_requests_of(version), {"product_id": product_id, "quantity": quantity,
                                              "discount_pct": discount_pct}]
        price_version(version, lines, on_date=company_today())
        line = version.lines.get(position=len(lines))
        audit.record_changes(quote, {"lines": ("", f"added {line.sku} × {quantity}")}, by)
        return line


def update_line(quote: Quote, line: QuoteLine, *, by, quantity: Decimal | None = None,
                discount_pct: Decimal | None = None,
                expected_version: int | None = None) -> QuoteLine:
    with transaction.atomic():
        access.require_change(by, quote)
        _lock(quote, expected_version)
        _require_status(quote, [QuoteStatus.DRAFT], "changed")
        version = current_version(quote)
        lines = line_requests_of(version)
        if line.quote_version_id != version.pk:
            raise ValidationError({"line": "The line belongs to an older version."})
        row = lines[line.position - 1]
        if quantity is not None:
            row["quantity"] = quantity
        if discount_pct is not None:
            row["discount_pct"] = discount_pct
        price_version(version, lines, on_date=company_today())
        updated = version.lines.get(position=line.position)
        audit.record_changes(quote, {f"line {line.position}": (
            f"{line.quantity} at {line.requested_discount_pct}%",
            f"{updated.quantity} at {updated.requested_discount_pct}%")}, by)
        return updated


@transaction.atomic
def remove_line(quote: Quote, line: QuoteLine, *, by,
                expected_version: int | None = None) -> None:
    access.require_change(by, quote)
    _lock(quote, expected_version)
    _require_status(quote, [QuoteStatus.DRAFT], "changed")
    version = current_version(quote)
    if line.quote_version_id != version.pk:
        raise ValidationError({"line": "The line belongs to an older version."})
    lines = [row for row in line_requests_of(version) if row["id"] != line.pk]
    price_version(version, lines, on_date=company_today())
    audit.record_changes(quote, {"lines": (f"{line.sku} × {line.quantity}", "removed")}, by)


@transaction.atomic
def new_version(quote: Quote, *, by, expected_version: int | None = None) -> QuoteVersion:
    """Start the next version of a quote as a draft: the terms and lines are copied, the
    previous version stays readable as it was."""
    access.require_change(by, quote)
    _lock(quote, expected_version)
    _require_status(quote, [QuoteStatus.DRAFT, QuoteStatus.IN_APPROVAL, QuoteStatus.APPROVED,
                            QuoteStatus.SENT, QuoteStatus.REJECTED, QuoteStatus.EXPIRED],
                    "given a new version")
    previous = current_version(quote)
    previous.closed_status = quote.status
    previous.save(update_fields=["closed_status", "updated_at"])
    previous.approvals.filter(status=ApprovalStatus.PENDING).update(
        status=ApprovalStatus.CANCELLED, decided_at=timezone.now())
    notices.close_steps(previous)
    lines = list(previous.lines.order_by("position"))
    version = previous
    version.pk = None
    version._state.adding = True
    version.number = quote.current_number + 1
    version.closed_status = ""
    version.created_by = by
    today = company_today()
    version.valid_until = max(version.valid_until, today + timedelta(days=DEFAULT_VALIDITY_DAYS))
    version.save()
    for line in lines:
        line.pk = None
        line.quote_version = version
    QuoteLine.objects.bulk_create(lines)
    old_status = quote.status
    quote.current_number = version.number
    quote.status = QuoteStatus.DRAFT
    quote.sent_at = None
    quote.version += 1
    quote.save(update_fields=["current_number", "status", "sent_at", "version", "updated_at"])
    audit.record_changes(quote, {"status": (old_status, QuoteStatus.DRAFT),
                                 "current_number": (version.number - 1, version.number)}, by)
    return version


@transaction.atomic
def delete_quote(quote: Quote, *, by, expected_version: int | None = None) -> None:
    """Delete a draft that was never sent."""
    access.require_change(by, quote)
    _lock(quote, expected_version)
    went_further = (quote.current_number > 1
                    or Approval.objects.filter(quote_version__quote=quote).exists())
    if quote.status != QuoteStatus.DRAFT or went_further:
        raise ValidationError({"status": f"Quote {quote.number} has been through approval or "
                                         "sent: it is kept. Create a new version instead."})
    audit.record_deleted(quote, by)
    quote.delete()


# --- Transitions -----------------------------------------------------------------------------


def pending_requirements(version: QuoteVersion):
    """The approvals this version's lines need under the current matrix."""
    return required_approvals(list(version.lines.order_by("position")), active_rules())


def _require_sendable_content(quote: Quote, version: QuoteVersion) -> None:
    if not version.lines.exists():
        raise ValidationError({"lines": f"Quote {quote.number} has no lines."})
    if version.valid_until < company_today():
        raise ValidationError({"valid_until": "The validity date has passed; set a later one."})


@transaction.atomic
def submit_quote(quote: Quote, *, by, expected_version: int | None = None) -> Quote:
    """Submit a draft: the matrix decides which approvals it needs; with none it is
    approved at once, otherwise it waits in approval for each step in turn."""
    access.require_change(by, quote)
    _lock(quote, expected_version)
    _require_status(quote, [QuoteStatus.DRAFT], "submitted")
    version = current_version(quote)
    _require_sendable_content(quote, version)
    version.approvals.filter(status=ApprovalStatus.PENDING).update(
        status=ApprovalStatus.CANCELLED)
    needed = pending_requirements(version)
    if not needed:
        _set_status(quote, QuoteStatus.APPROVED, by)
        return quote
    chain = manager_chain(quote.owner)
    created = Approval.objects.bulk_create(
        Approval(quote_version=version, step=n.step, approver=n.approver, reasons=n.reasons,
                 assignee=addressee(n.approver, chain))
        for n in needed)
    for approval in created:
        audit.record_created(approval, by)
    _set_status(quote, QuoteStatus.IN_APPROVAL, by)
    notices.announce_turn(version)
    return quote


def _check_turn(approval: Approval) -> None:
    earlier = Approval.objects.filter(
        quote_version_id=approval.quote_version_id, step__lt=approval.step,
        status=ApprovalStatus.PENDING).exists()
    if earlier:
        raise ValidationError({"step": "An earlier step must be approved first."})


def _decide(approval: Approval, by, status: str, comment: str,
            expected_version: int | None) -> Quote:
    quote = approval.quote_version.quote
    _lock(quote, expected_version)
    current = Approval.objects.select_for_update().get(pk=approval.pk)
    access.require_decide(by, current, quote)
    if quote.status != QuoteStatus.IN_APPROVAL or current.quote_version.number != \
            quote.current_number:
        raise ValidationError({"status": f"Quote {quote.number} is not waiting for approval."})
    if current.status != ApprovalStatus.PENDING:
        raise ValidationError({"status": f"This approval is already {current.status}."})
    _check_turn(current)
    current.status, current.decided_by, current.comment = status, by, comment.strip()
    current.decided_at = timezone.now()
    changes: dict[str, tuple[Any, Any]] = {"status": (ApprovalStatus.PENDING, status),
                                           "comment": ("", current.comment)}
    if current.assignee_id is not None and current.assignee_id != by.pk:
        # Only an admin gets here (the registry refuses anyone else): say whom for.
        current.decided_for = current.assignee
        changes["decided_for"] = (None, current.assignee)
        changes["signed"] = ("", f"signed by admin {by} for {current.assignee}")
    current.save()
    audit.record_changes(current, changes, by)
    notices.close_step(current)
    approval.status, approval.decided_by = current.status, by
    approval.decided_for = current.decided_for
    return quote


@transaction.atomic
def approve(approval: Approval, *, by, comment: str = "",
            expected_version: int | None = None) -> Quote:
    """Give one approval; when every step is approved the quote is approved."""
    quote = _decide(approval, by, ApprovalStatus.APPROVED, comment, expected_version)
    left = Approval.objects.filter(quote_version_id=approval.quote_version_id,
                                   status=ApprovalStatus.PENDING).exists()
    if not left:
        _set_status(quote, QuoteStatus.APPROVED, by)
        notices.tell_owner(quote, approved=True, by=by, comment=comment)
    else:
        notices.announce_turn(approval.quote_version)
    return quote


@transaction.atomic
def reject_approval(approval: Approval, *, by, comment: str,
                    expected_version: int | None = None) -> Quote:
    """Refuse an approval, saying why; the quote goes back to draft for the rep."""
    if not comment.strip():
        raise ValidationError({"comment": "Say why you reject it."})
    quote = _decide(approval, by, ApprovalStatus.REJECTED, comment, expected_version)
    Approval.objects.filter(quote_version_id=approval.quote_version_id,
                            status=ApprovalStatus.PENDING).update(
        status=ApprovalStatus.CANCELLED, decided_at=timezone.now())
    notices.close_steps(approval.quote_version)
    _set_status(quote, QuoteStatus.DRAFT, by)
    notices.tell_owner(quote, approved=False, by=by, comment=comment)
    return quote


@transaction.atomic
def send_quote(quote: Quote, *, by, expected_version: int | None = None) -> Quote:
    """Mark the quote sent to the customer. A quote over a limit of the matrix is sent
    only once every approval it needs is given."""
    access.require_change(by, quote)
    _lock(quote, expected_version)
    _require_status(quote, [QuoteStatus.DRAFT, QuoteStatus.APPROVED], "sent")
    version = current_version(quote)
    _require_sendable_content(quote, version)
    if quote.status == QuoteStatus.DRAFT:
        needed = pending_requirements(version)
        if needed:
            who = ", ".join(sorted({n.approver for n in needed}))
            raise ValidationError({"status": f"Quote {quote.number} needs approval ({who}) "
                                             "before it can be sent: submit it for approval."})
    _set_status(quote, QuoteStatus.SENT, by, sent_at=timezone.now())
    return quote


def _won_stage(opportunity: Opportunity) -> Stage:
    stage = opportunity.pipeline.stages.filter(kind=StageKind.WON).order_by("position").first()
    if stage is None:
        raise ValidationError({"stage": "The opportunity's pipeline has no won stage."})
    return stage


@transaction.atomic
def accept_quote(quote: Quote, *, by, stage: Stage | None = None,
                 expected_version: int | None = None) -> Quote:
    """The customer accepted: the opportunity takes the quote's total as its amount and
    moves to the won stage (or the stage chosen). One quote per opportunity is accepted."""
    access.require_change(by, quote)
    _lock(quote, expected_version)
    _require_status(quote, [QuoteStatus.SENT], "accepted")
    opportunity = Opportunity.objects.select_related("pipeline").get(pk=quote.opportunity_id)
    if stage is not None and stage.pipeline_id != opportunity.pipeline_id:
        raise ValidationError({"stage": "The stage belongs to another pipeline."})
    other = Quote.objects.filter(opportunity=opportunity, status=QuoteStatus.ACCEPTED)
    if other.exclude(pk=quote.pk).exists():
        raise ValidationError({"status": "Another quote of this opportunity is already "
                                         "accepted."})
    version = current_version(quote)
    try:
        with transaction.atomic():
            _set_status(quote, QuoteStatus.ACCEPTED, by, decided_at=timezone.now())
    except IntegrityError as exc:
        raise ValidationError({"status": "Another quote of this opportunity is already "
                                         "accepted."}) from exc
    target = stage or _won_stage(opportunity)
    changes = {"amount": version.total, "currency": version.currency}
    if target.kind != StageKind.OPEN:  # it closes today, whatever date was expected
        changes["close_date"] = company_today()
    pipeline_services.update_opportunity(opportunity, by=by, data=changes)
    pipeline_services.move_opportunity(opportunity, target, by=by)
    quote.opportunity = Opportunity.objects.get(pk=opportunity.pk)
    return quote


@transaction.atomic
def reject_quote(quote: Quote, *, by, reason: str = "",
                 expected_version: int | None = None) -> Quote:
    """The customer declined the quote."""
    access.require_change(by, quote)
    _lock(quote, expected_version)
    _require_status(quote, [QuoteStatus.SENT], "rejected")
    _set_status(quote, QuoteStatus.REJECTED, by, decided_at=timezone.now())
    if reason.strip():
        audit.record_changes(quote, {"rejection_reason": ("", reason.strip())}, by)
    return quote


def expire_quotes(*, today: date | None = None, by=None) -> list[str]:
    """Mark expired every sent quote whose current version's validity has passed; the
    numbers of the quotes expired."""
    today = today or company_today()
    expired: list[str] = []
    candidates = Quote.objects.filter(
        status=QuoteStatus.SENT, versions__number=F("current_number"),
        versions__valid_until__lt=today).values_list("pk", flat=True)
    for pk in list(candidates):
        with transaction.atomic():
            quote = Quote.objects.select_for_update().get(pk=pk)
            if quote.status != QuoteStatus.SENT:
                continue
            _set_status(quote, QuoteStatus.EXPIRED, by)
            expired.append(quote.number)
    return expired


TRANSITIONS = {
    "submit": submit_quote,
    "send": send_quote,
    "accept": accept_quote,
    "reject": reject_quote,
}
