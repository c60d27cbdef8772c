"""Marketing: campaigns and who responded to them, the web forms that capture leads,
routing of new leads to a territory and a rep, the handoff from marketing to sales with
its first-touch service level, and the touches that attribute pipeline to campaigns."""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from salesplan.core.models import Versioned, VersionedModel
from salesplan.core.money import AmountField, CurrencyField


def new_form_key() -> str:
    return secrets.token_urlsafe(18)


class RoutingMethod(models.TextChoices):
    ROUND_ROBIN = "round_robin", "Round-robin"
    LEAST_LOADED = "least_loaded", "Least-loaded"


class MarketingPolicy(VersionedModel):
    """The company's rules for new leads: how they are shared out among a territory's
    reps, how many open leads a rep may hold, and how fast the first touch must come."""

    sla_hours = models.PositiveIntegerField(
        default=24, validators=[MinValueValidator(1), MaxValueValidator(24 * 30)],
        help_text="A routed lead must be touched by its owner within this many hours.")
    routing_method = models.CharField(max_length=20, choices=RoutingMethod.choices,
                                      default=RoutingMethod.ROUND_ROBIN)
    default_capacity = models.PositiveIntegerField(
        default=50, validators=[MaxValueValidator(100_000)],
        help_text="Most open leads a rep may hold, unless set for the rep.")
    attribution_refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "marketing policy"

    def __str__(self) -> str:
        return f"SLA {self.sla_hours} h, {self.get_routing_method_display()}"

    @classmethod
    def current(cls) -> "MarketingPolicy":
        policy = cls.objects.order_by("id").first()
        return policy if policy is not None else cls.objects.create()


class RepCapacity(Versioned):
    """A rep's own limit of open leads (overrides the policy's default)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="lead_capacity")
    max_open_leads = models.PositiveIntegerField(validators=[MaxValueValidator(100_000)])

    def __str__(self) -> str:
        return f"{self.user}: {self.max_open_leads}"


class CampaignType(models.TextChoices):
    WEBINAR = "webinar", "Webinar"
    EVENT = "event", "Event / trade show"
    EMAIL = "email", "Email"
    CONTENT = "content", "Content"
    ADVERTISING = "advertising", "Advertising"
    REFERRAL = "referral", "Referral program"
    OTHER = "other", "Other"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SOCIAL = "social", "Social"
    SEARCH = "search", "Paid search"
    DISPLAY = "display", "Display"
    EVENT = "event", "In person"
    WEB = "web", "Website"
    PARTNER = "partner", "Partner"
    DIRECT = "direct", "Direct mail"


class CampaignStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class Campaign(VersionedModel):
    """A marketing effort with a budget and a cost, whose members are the leads and
    contacts it reached."""

    name = models.CharField(max_length=200)
    type = models.CharField(max_length=20, choices=CampaignType.choices,
                            default=CampaignType.OTHER)
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.WEB)
    status = models.CharField(max_length=20, choices=CampaignStatus.choices,
                              default=CampaignStatus.PLANNED, db_index=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="campaigns")
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    budget = AmountField(default=0, validators=[MinValueValidator(0)])
    actual_cost = AmountField(default=0, validators=[MinValueValidator(0)])
    currency = CurrencyField()
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["-start_date", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="campaign_dates_in_order"),
        ]

    def __str__(self) -> str:
        return self.name


class Response(models.TextChoices):
    """How far a member went; each step implies the ones before it."""

    SENT = "sent", "Sent"
    OPENED = "opened", "Opened"
    RESPONDED = "responded", "Responded"
    REGISTERED = "registered", "Registered"
    ATTENDED = "attended", "Attended"


RESPONSE_ORDER = {value: i for i, value in enumerate(Response.values)}
# Members at or past this step count as touches for attribution.
RESPONDED_STEPS = tuple(v for v in Response.values
                        if RESPONSE_ORDER[v] >= RESPONSE_ORDER[Response.RESPONDED])


class CampaignMember(VersionedModel):
    """A lead or a contact reached by a campaign, and how far they responded."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="members")
    lead = models.ForeignKey("customers.Lead", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="campaign_memberships")
    contact = models.ForeignKey("customers.Contact", null=True, blank=True,
                                on_delete=models.CASCADE, related_name="campaign_memberships")
    response = models.CharField(max_length=20, choices=Response.choices, default=Response.SENT)
    responded_at = models.DateTimeField(null=True, blank=True, db_index=True,
                                        help_text="When the member first responded.")

    class Meta:
        ordering = ["campaign", "-updated_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(lead__isnull=False, contact__isnull=True)
                           | Q(lead__isnull=True, contact__isnull=False)),
                name="member_is_lead_or_contact"),
            models.UniqueConstraint(fields=["campaign", "lead"], condition=Q(lead__isnull=False),
                                    name="lead_member_once"),
            models.UniqueConstraint(fields=["campaign", "contact"],
                                    condition=Q(contact__isnull=False),
                                    name="contact_member_once"),
        ]
        indexes = [models.Index(fields=["campaign", "response"])]

    def __str__(self) -> str:
        who = f"lead {self.lead_id}" if self.lead_id else f"contact {self.contact_id}"
        return f"{who} in {self.campaign_id}: {self.response}"


class CaptureForm(VersionedModel):
    """A public web form that turns submissions into leads. Its random `key` is the only
    thing a visitor needs: it names the form in the public URL and cannot be guessed."""

    name = models.CharField(max_length=120)
    key = models.CharField(max_length=40, unique=True, default=new_form_key, editable=False)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="forms")
    fields = models.JSONField(default=list, blank=True,
                              help_text="Optional lead fields shown besides name and email.")
    required_fields = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=20, default="web")
    response = models.CharField(max_length=20, choices=Response.choices,
                                default=Response.RESPONDED,
                                help_text="The response a submission records.")
    queue_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        help_text="Owns the leads no territory or rep can take, while they wait in the queue.")
    is_active = models.BooleanField(default=True)
    rate_limit = models.PositiveIntegerField(
        default=20, validators=[MinValueValidator(1), MaxValueValidator(1_000_000)],
        help_text="Submissions a single address may send per minute.")
    thank_you = models.CharField(max_length=300, default="Thank you, we will be in touch.")

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class CaptureSubmission(models.Model):
    """A checked web-form submission, kept from the moment it is accepted: the visitor is
    answered once it is stored here, and the intake turns stored submissions into leads
    in batches (de-duplicating and routing them). A submission that cannot be processed
    stays here with the error, so nothing a visitor sent is ever lost."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        DONE = "done", "Processed"
        FAILED = "failed", "Failed"

    class Outcome(models.TextChoices):
        CREATED = "created", "New lead"
        UPDATED = "updated", "Updated lead"
        CONTACT = "contact", "Existing contact"

    form = models.ForeignKey(CaptureForm, on_delete=models.CASCADE, related_name="submissions")
    received_at = models.DateTimeField()
    address = models.CharField(max_length=64, blank=True)
    data = models.JSONField(help_text="The submitted fields, already checked.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    lead = models.ForeignKey("customers.Lead", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    contact = models.ForeignKey("customers.Contact", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    scored = models.BooleanField(default=False, help_text="The lead's score took the "
                                                          "submission into account.")

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "id"]),
                   models.Index(fields=["form", "id"]),
                   models.Index(fields=["status", "scored", "id"])]

    def __str__(self) -> str:
        return f"{self.form_id}: {self.data.get('email', '')} ({self.status})"


class CaptureRateCount(models.Model):
    """Submissions from one address to one form in one minute, counted in the database so
    every server process shares the allowance."""

    form = models.ForeignKey(CaptureForm, on_delete=models.CASCADE, related_name="+")
    address = models.CharField(max_length=64)
    minute = models.BigIntegerField(help_text="Minutes since the epoch.")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["form", "address", "minute"],
                                               name="capture_rate_unique")]
        indexes = [models.Index(fields=["minute"])]

    def __str__(self) -> str:
        return f"{self.form_id} {self.address} @{self.minute}: {self.count}"


class Stage(models.TextChoices):
    MQL = "mql", "Marketing-qualified"
    SAL = "sal", "Sales-accepted"
    SQL = "sql", "Sales-qualified"
    CONVERTED = "converted", "Converted"
    RECYCLED = "recycled", "Recycled"
    DISQUALIFIED = "disqualified", "Disqualified"


OPEN_STAGES = (Stage.MQL, Stage.SAL, Stage.SQL)


class LeadHandoff(models.Model):
    """Where a lead stands between marketing and sales: its stage, where it came from,
    the territory and rep routing chose (or why it waits in the queue) and the clock of
    its first touch."""

    lead = models.OneToOneField("customers.Lead", on_delete=models.CASCADE,
                                related_name="handoff", primary_key=True)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.MQL)
    stage_changed_at = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True,
                              help_text="Why it was recycled or disqualified.")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="handoffs", help_text="The campaign it came from.")
    source = models.CharField(max_length=20, blank=True)
    form = models.ForeignKey(CaptureForm, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    territory = models.ForeignKey("territories.Territory", null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    queued = models.BooleanField(default=False)
    queue_reason = models.CharField(max_length=300, blank=True)
    routed_at = models.DateTimeField(null=True, blank=True)
    sla_due_at = models.DateTimeField(null=True, blank=True)
    first_touch_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["stage", "campaign"]),
            models.Index(fields=["queued", "routed_at"]),
            models.Index(fields=["sla_due_at"], condition=Q(first_touch_at__isnull=True,
                                                             escalated_at__isnull=True),
                         name="handoff_sla_open"),
        ]

    def __str__(self) -> str:
        return f"lead {self.lead_id}: {self.stage}"

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES


class LeadEvent(models.Model):
    """The story of a lead's handoff: routing decisions, queueing, stage changes and
    escalations, with who and why."""

    class Kind(models.TextChoices):
        ROUTED = "routed", "Routed"
        QUEUED = "queued", "Queued"
        STAGE = "stage", "Stage changed"
        ESCALATED = "escalated", "SLA escalated"
        CAPTURED = "captured", "Captured"

    lead = models.ForeignKey("customers.Lead", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                           on_delete=models.SET_NULL, related_name="+")
    territory = models.ForeignKey("territories.Territory", null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    message = models.CharField(max_length=500)

    class Meta:
        ordering = ["lead", "at", "id"]
        indexes = [models.Index(fields=["lead", "at"])]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.kind}: {self.message}"


class RoundRobinCursor(models.Model):
    """The rep of a territory who last got a lead, so the next goes to the one after."""

    territory = models.OneToOneField("territories.Territory", on_delete=models.CASCADE,
                                     related_name="+", primary_key=True)
    last_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                  related_name="+")

    def __str__(self) -> str:
        return f"{self.territory_id} → {self.last_user_id}"


class OpportunityTouch(models.Model):
    """One campaign's share of one opportunity under each attribution model, in minor
    units of the opportunity's currency (exact integers, so sums are exact on every
    database). Rebuilt from campaign responses; reports sum these rows."""

    opportunity = models.ForeignKey("pipeline.Opportunity", on_delete=models.CASCADE,
                                    db_constraint=False, db_index=False, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, db_constraint=False,
                                 db_index=False, related_name="+")
    touched_at = models.DateTimeField()
    status = models.CharField(max_length=10)
    currency = models.CharField(max_length=3)
    first_cents = models.BigIntegerField(default=0)
    last_cents = models.BigIntegerField(default=0)
    linear_cents = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "campaign"], name="touch_once"),
        ]
        indexes = [
            models.Index(fields=["campaign", "status", "currency", "first_cents",
                                 "last_cents", "linear_cents"], name="touch_attribution"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} touched {self.opportunity_id}"


class CampaignAttribution(models.Model):
    """The touch table summed per campaign, opportunity status and currency, written by
    each attribution refresh so reports read a few rows instead of millions."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10)
    currency = models.CharField(max_length=3)
    first_cents = models.BigIntegerField(default=0)
    last_cents = models.BigIntegerField(default=0)
    linear_cents = models.BigIntegerField(default=0)
    opportunities = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "status", "currency"],
                                    name="attribution_once"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.status} {self.currency}"
