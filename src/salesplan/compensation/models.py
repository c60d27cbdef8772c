"""Incentive compensation: plans and their versions, crediting, periods, statements with
their explained lines, adjustments, disputes and plan acceptances."""

from django.conf import settings
from django.db import models

from salesplan.core.models import TimeStampedModel, VersionedModel
from salesplan.core.money import AmountField, CurrencyField


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class CompPlan(VersionedModel):
    """A compensation plan for a role or one person over a period: on-target earnings
    split into base and variable, and its components (commission tiers, bonuses,
    new-logo bonus, SPIFFs, MBOs, draw, clawback window) in `definition`. A change to an
    active plan is a new version (`supersedes`) with its own effective date; a draft is
    what-if material until activated."""

    name = models.CharField(max_length=120)
    role = models.CharField(max_length=20, blank=True,
                            help_text="The role the plan is for (empty when for one person).")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.PROTECT, related_name="comp_plans")
    starts = models.DateField()
    ends = models.DateField()
    effective_from = models.DateField(help_text="This version applies from this date on.")
    number = models.PositiveIntegerField(default=1, help_text="The plan's version number.")
    supersedes = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    status = models.CharField(max_length=10, choices=PlanStatus.choices,
                              default=PlanStatus.DRAFT)
    currency = CurrencyField()
    base_salary = AmountField(default=0)
    variable_target = AmountField(default=0, help_text="On-target variable pay for the year.")
    definition = models.JSONField(default=dict)
    document = models.TextField(blank=True, help_text="The plan document the rep accepts.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-starts", "name", "-number", "id"]
        indexes = [models.Index(fields=["status", "starts", "ends"]),
                   models.Index(fields=["person", "status"])]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"


class CompPlanAcceptance(models.Model):
    """A rep's acceptance of one version of their plan document."""

    plan = models.ForeignKey(CompPlan, on_delete=models.CASCADE, related_name="acceptances")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                            related_name="comp_acceptances")
    accepted_at = models.DateTimeField()
    document_digest = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plan", "rep"],
                                               name="comp_accepted_once")]

    def __str__(self) -> str:
        return f"{self.rep} accepted {self.plan}"


class CreditKind(models.TextChoices):
    OVERLAY = "overlay", "Territory overlay members"
    MANAGER = "manager", "Manager roll-up"


class CompCreditRule(VersionedModel):
    """Who besides the owner (or the deal's splits) is credited for a deal, and how much,
    from a date on: overlay specialists of the deal's territory, or every manager above
    the owner (roll-up)."""

    name = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=10, choices=CreditKind.choices)
    share = models.DecimalField(max_digits=7, decimal_places=4, default=1)
    effective_from = models.DateField()
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class DealSplit(models.Model):
    """A rep's percentage of a won deal's credit; a deal's splits add up to 100 %."""

    opportunity = models.ForeignKey("pipeline.Opportunity", on_delete=models.CASCADE,
                                    related_name="comp_splits")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                            related_name="+")
    share = models.DecimalField(max_digits=7, decimal_places=4)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["opportunity", "rep"],
                                               name="comp_split_once")]

    def __str__(self) -> str:
        return f"{self.rep} {self.share}"


class PeriodStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class CompPeriod(VersionedModel):
    """A pay period. Closed, its statements are locked; later corrections land in the
    next open period."""

    name = models.CharField(max_length=40)
    starts = models.DateField(unique=True)
    ends = models.DateField()
    status = models.CharField(max_length=10, choices=PeriodStatus.choices,
                              default=PeriodStatus.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["starts"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.status == PeriodStatus.CLOSED


class CompStatement(TimeStampedModel):
    """A rep's pay for one period: totals, the draw balance carried, where the tiers
    stand; its lines explain every figure."""

    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                            related_name="comp_statements")
    period = models.ForeignKey(CompPeriod, on_delete=models.PROTECT, related_name="statements")
    plan = models.ForeignKey(CompPlan, null=True, on_delete=models.PROTECT, related_name="+")
    currency = CurrencyField()
    earned = AmountField(default=0)
    paid = AmountField(default=0)
    draw_balance = AmountField(default=0)
    bookings = AmountField(default=0)
    attainment = models.JSONField(default=dict)
    next_tiers = models.JSONField(default=list)
    calculated_at = models.DateTimeField()

    class Meta:
        ordering = ["period__starts", "rep_id"]
        constraints = [models.UniqueConstraint(fields=["rep", "period"],
                                               name="comp_statement_once")]

    def __str__(self) -> str:
        return f"{self.rep} · {self.period}"

    @property
    def owner_id(self) -> int:
        return self.rep_id


class CompLine(models.Model):
    """One line of a statement, with what it was computed from (deals, credit lines,
    rates, rule) — the answer to "explain this figure"."""

    statement = models.ForeignKey(CompStatement, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20)
    component = models.CharField(max_length=40)
    label = models.CharField(max_length=200)
    amount = AmountField()
    rule = models.TextField()
    # Empty (null) for lines worked out again for the rep when someone asks to explain
    # them, rather than storing a row per credit line of every statement.
    trace = models.JSONField(default=list, null=True)
    measure = models.DecimalField(max_digits=24, decimal_places=6, null=True)

    class Meta:
        ordering = ["statement", "position"]

    def __str__(self) -> str:
        return f"{self.label}: {self.amount}"

    @property
    def owner_id(self) -> int:
        return self.statement.rep_id


class CompCreditIndex(models.Model):
    """Which rep each deal of a block of deal ids credited at the period's last
    calculation (two packed int64 arrays, sorted by deal): a changed deal finds the
    open statements that counted it without a row per deal and statement."""

    period = models.ForeignKey(CompPeriod, on_delete=models.CASCADE, related_name="+")
    block = models.BigIntegerField(help_text="Deal id ÷ the block size.")
    deals = models.BinaryField()
    reps = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["period", "block"],
                                               name="comp_credit_index_once")]
        indexes = [models.Index(fields=["block"])]

    def __str__(self) -> str:
        return f"{self.period} · block {self.block}"


class CompAdjustment(TimeStampedModel):
    """A manual correction of a rep's pay in an open period, with its reason."""

    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                            related_name="+")
    period = models.ForeignKey(CompPeriod, on_delete=models.PROTECT, related_name="adjustments")
    amount = AmountField()
    reason = models.CharField(max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"{self.amount} · {self.reason}"

    @property
    def owner_id(self) -> int:
        return self.rep_id


class DisputeStatus(models.TextChoices):
    OPEN = "open", "Open"
    ANSWERED = "answered", "Answered"
    RESOLVED = "resolved", "Resolved"


class CompDispute(VersionedModel):
    """A rep's question about a statement line, answered and resolved by a manager or
    an admin; each step is in the audit trail."""

    statement = models.ForeignKey(CompStatement, on_delete=models.CASCADE,
                                  related_name="disputes")
    line_position = models.PositiveSmallIntegerField()
    line_label = models.CharField(max_length=200)
    line_amount = AmountField()
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    text = models.TextField()
    status = models.CharField(max_length=10, choices=DisputeStatus.choices,
                              default=DisputeStatus.OPEN)
    answer = models.TextField(blank=True)
    resolution = models.TextField(blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Dispute on {self.line_label}"

    @property
    def owner_id(self) -> int:
        return self.statement.rep_id


class MboScore(VersionedModel):
    """A manager's score of one MBO of a rep's plan for one pay period, in percent of the
    objective (0–100, or up to the objective's `max_score`); the period's calculation
    pays the objective's target × the score. Each change is in the audit trail."""

    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                            related_name="+")
    period = models.ForeignKey(CompPeriod, on_delete=models.PROTECT, related_name="mbo_scores")
    component = models.CharField(max_length=40, help_text="The MBO's key in the plan.")
    score_pct = models.DecimalField(max_digits=7, decimal_places=2)
    note = models.CharField(max_length=500, blank=True)
    scored_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                  related_name="+")

    class Meta:
        ordering = ["period__starts", "rep_id", "component"]
        constraints = [models.UniqueConstraint(fields=["rep", "period", "component"],
                                               name="comp_mbo_scored_once")]

    def __str__(self) -> str:
        return f"{self.component} {self.score_pct}%"

    @property
    def owner_id(self) -> int:
        return self.rep_id


class ContestVisibility(models.TextChoices):
    """What the reps of a team see of its SPIFF standings."""

    MANAGERS = "managers", "Managers only"
    OWN = "own", "Each rep their own rank and figures"
    RANKS = "ranks", "Everyone's rank and deals; each rep their own payout"
    FULL = "full", "The whole standings"


class CompContestSetting(VersionedModel):
    """A team's opt-in to SPIFF contest standings, set by its manager: shown or not, and
    what its reps see (`ContestVisibility`). A team without one shows no standings."""

    team = models.OneToOneField("org.Team", on_delete=models.CASCADE,
                                related_name="contest_setting")
    enabled = models.BooleanField(default=True)
    visibility = models.CharField(max_length=10, choices=ContestVisibility.choices,
                                  default=ContestVisibility.MANAGERS)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"Contest standings of {self.team}"
