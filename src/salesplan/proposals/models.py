"""Quotes for opportunities: versions of priced lines, the discount approval matrix, the
approvals a quote needs before it is sent, and the proposal template an admin may edit.

A quote is the header a customer knows by its number; each `QuoteVersion` holds one
edition of its lines, terms and totals. Only the latest version is edited; older versions
stay as they were, readable. Every line keeps a snapshot of what the pricing engine said
(list and net price, tax, cost, margin and the explanation) when the line was priced.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from salesplan.core.models import TimeStampedModel, VersionedModel
from salesplan.core.money import AmountField, CurrencyField


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_APPROVAL = "in_approval", "In approval"
    APPROVED = "approved", "Approved"
    SENT = "sent", "Sent"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"


class QuoteQuerySet(models.QuerySet):
    """Quotes are visible exactly when their opportunity is."""

    def visible_to(self, user) -> "QuoteQuerySet":
        from salesplan.pipeline.models import Opportunity

        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.visible_owner_ids is None:
            return self  # admins and executives see every opportunity
        return self.filter(opportunity__in=Opportunity.objects.visible_to(user).values("pk"))

    def visible_parts(self, user) -> list["QuoteQuerySet"]:
        """`visible_to` as disjoint parts, those of the opportunities (see
        `VisibleQuerySet.visible_parts`)."""
        from salesplan.pipeline.models import Opportunity

        if user is None or not user.is_authenticated or not user.is_active:
            return []
        if user.visible_owner_ids is None:
            return [self]
        return [self.filter(opportunity__in=part.values("pk"))
                for part in Opportunity.objects.visible_parts(user)]


class Quote(VersionedModel):
    """A priced offer made to a customer for one opportunity.

    `version` (from VersionedModel) guards concurrent edits; `current_number` names the
    latest `QuoteVersion`, the one that is edited, sent and accepted."""

    number = models.CharField(max_length=20, unique=True, editable=False)
    opportunity = models.ForeignKey("pipeline.Opportunity", on_delete=models.CASCADE,
                                    related_name="quotes")
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="quotes")
    status = models.CharField(max_length=12, choices=QuoteStatus.choices,
                              default=QuoteStatus.DRAFT, editable=False)
    current_number = models.PositiveIntegerField(default=1, editable=False)
    # Totals of the current version, denormalised for lists and the opportunity panel.
    currency = CurrencyField()
    total = AmountField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = QuoteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["opportunity", "created_at"]),
            models.Index(fields=["status", "created_at", "id"]),
            models.Index(fields=["created_at", "id"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["opportunity"],
                                    condition=Q(status="accepted"),
                                    name="one_accepted_quote_per_opportunity"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_editable(self) -> bool:
        return self.status == QuoteStatus.DRAFT


class QuoteVersion(TimeStampedModel):
    """One edition of a quote: its terms, its lines and the totals they add up to."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    # The status the quote had when this version was replaced by a newer one.
    closed_status = models.CharField(max_length=12, choices=QuoteStatus.choices, blank=True)
    contact = models.ForeignKey("customers.Contact", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    currency = CurrencyField()
    price_book = models.ForeignKey("pricing.PriceBook", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    tax_region = models.CharField(max_length=40, blank=True)
    valid_until = models.DateField()
    payment_terms = models.CharField(max_length=500, blank=True)
    delivery_terms = models.CharField(max_length=500, blank=True)
    introduction = models.TextField(blank=True)
    priced_on = models.DateField(null=True, blank=True)
    subtotal = AmountField(default=0)
    discount_total = AmountField(default=0)
    tax_total = AmountField(default=0)
    total = AmountField(default=0)
    prices_include_tax = models.BooleanField(default=False)
    tax_label = models.CharField(max_length=120, blank=True)
    max_discount_pct = models.DecimalField(max_digits=7, decimal_places=2, default=0)
    min_margin_pct = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["quote", "-number"]
        constraints = [models.UniqueConstraint(fields=["quote", "number"],
                                               name="quote_version_number_unique")]

    def __str__(self) -> str:
        return f"{self.quote.number} v{self.number}"


class QuoteLine(models.Model):
    """A product on a quote version: what was asked for, and what the engine priced it at."""

    quote_version = models.ForeignKey(QuoteVersion, on_delete=models.CASCADE,
                                      related_name="lines")
    position = models.PositiveIntegerField()
    product = models.ForeignKey("pricing.Product", null=True, on_delete=models.SET_NULL,
                                related_name="+")
    quantity = models.DecimalField(max_digits=14, decimal_places=4)
    requested_discount_pct = models.DecimalField(
        max_digits=7, decimal_places=4, default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)])
    # Snapshot of the pricing.
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    unit = models.CharField(max_length=20, blank=True)
    list_unit_price = models.DecimalField(max_digits=18, decimal_places=4)
    net_unit_price = models.DecimalField(max_digits=18, decimal_places=4)
    discount_pct = models.DecimalField(max_digits=9, decimal_places=4)
    line_net = AmountField()
    tax_rate = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    tax_amount = AmountField(default=0)
    line_total = AmountField()
    unit_cost = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    margin = AmountField(null=True, blank=True)
    margin_pct = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    floor_price = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    below_floor = models.BooleanField(default=False)
    below_min_margin = models.BooleanField(default=False)
    explanation = models.TextField(blank=True)

    class Meta:
        ordering = ["quote_version", "position"]
        constraints = [models.UniqueConstraint(fields=["quote_version", "position"],
                                               name="quote_line_position_unique")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"


class ApproverLevel(models.TextChoices):
    MANAGER = "manager", "Manager of the owner's team"
    DIRECTOR = "director", "Manager of the team above"
    ADMIN = "admin", "Administrator"


class RuleMetric(models.TextChoices):
    DISCOUNT = "discount", "A line's extra discount is above"
    MARGIN = "margin", "A line's margin is below"
    FLOOR = "floor", "A line is below its floor price or minimum margin"


class ApprovalRule(VersionedModel):
    """One row of the discount approval matrix: when a quote trips it, who must approve
    and at which step. Steps are decided in order; rules of one step and level make a
    single approval."""

    name = models.CharField(max_length=120)
    metric = models.CharField(max_length=10, choices=RuleMetric.choices)
    threshold_pct = models.DecimalField(
        max_digits=7, decimal_places=2, default=0,
        help_text="Percent: discount above it, or margin below it (unused for floor rules).")
    approver = models.CharField(max_length=10, choices=ApproverLevel.choices)
    step = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1),
                                                                   MaxValueValidator(9)])
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["step", "metric", "threshold_pct", "id"]

    def __str__(self) -> str:
        return self.name


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


class Approval(TimeStampedModel):
    """One approval a quote version needs: its step, the person who must sign it (or an
    admin acting for them), and why (the rules that triggered and the lines that tripped
    them, frozen when the quote was submitted)."""

    quote_version = models.ForeignKey(QuoteVersion, on_delete=models.CASCADE,
                                      related_name="approvals")
    step = models.PositiveSmallIntegerField()
    approver = models.CharField(max_length=10, choices=ApproverLevel.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="approvals_to_sign",
        help_text="The person who must sign: the owner's manager, the manager above for a "
                  "director's step. Empty: an administrator signs.")
    reasons = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=ApprovalStatus.choices,
                              default=ApprovalStatus.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_for = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", help_text="The signer an administrator acted for.")
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["quote_version", "step", "id"]
        indexes = [models.Index(fields=["status", "approver", "step"]),
                   models.Index(fields=["assignee", "status"])]

    def __str__(self) -> str:
        return f"{self.quote_version} step {self.step} ({self.get_approver_display()})"


class ProposalTemplate(TimeStampedModel):
    """The company's proposal layout: an admin's override of the built-in HTML template,
    and the colours the proposal is printed in. One row; none means the built-in one."""

    html = models.TextField(blank=True, help_text="Leave empty for the built-in template.")
    primary_colour = models.CharField(max_length=7, default="#1f4e79")
    accent_colour = models.CharField(max_length=7, default="#e8eef5")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return "Proposal template"
