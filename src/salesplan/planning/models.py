"""The Sales Management Plan: a fiscal year's objectives for a team (or the company),
allocated top-down, committed bottom-up, revised with a reason once approved."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from salesplan.core.models import TimeStampedModel, VersionedModel
from salesplan.core.money import AmountField, CurrencyField


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    ACTIVE = "active", "Active"
    CLOSED = "closed", "Closed"


class Measure(models.TextChoices):
    BOOKINGS = "bookings", "Bookings"
    GROSS_MARGIN = "gross_margin", "Gross margin"
    UNITS = "units", "Units"
    NEW_ACCOUNTS = "new_accounts", "New accounts"
    PIPELINE_CREATED = "pipeline_created", "Pipeline created"
    ACTIVITIES = "activities", "Activities"
    LEADS = "leads", "Leads"


# Measures in money; the others are counts (still stored as Decimal, 2 places).
MONEY_MEASURES = {Measure.BOOKINGS, Measure.GROSS_MARGIN, Measure.PIPELINE_CREATED}


class Level(models.TextChoices):
    COMPANY = "company", "Company"
    TEAM = "team", "Team"
    TERRITORY = "territory", "Territory"
    REP = "rep", "Rep"
    PRODUCT_LINE = "product_line", "Product line"


class AllocationMethod(models.TextChoices):
    EVEN = "even", "Even split"
    POTENTIAL = "potential", "Share of potential"
    PRIOR_PERIOD = "prior_period", "Prior-period share"
    TRAILING_TWELVE_MONTHS = "trailing_twelve_months", "Trailing twelve months"
    TERRITORY_GOALS = "territory_goals", "Territory goals"
    CUSTOM = "custom", "Custom weights"


class PlanQuerySet(models.QuerySet):
    def visible_to(self, user) -> "PlanQuerySet":
        """The plans the user may open (the rule lives in planning.access)."""
        from .access import visibility_rule

        rule = visibility_rule(user)
        return self.none() if rule is None else self.filter(rule)


class Plan(VersionedModel):
    """One fiscal year's sales plan for a team and everything below it (no team: the
    whole company). Owned by a manager; its status moves only through the transition
    services; once approved, every change is a numbered revision with a reason."""

    name = models.CharField(max_length=200)
    fiscal_year = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    team = models.ForeignKey("org.Team", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="plans")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="owned_plans")
    currency = CurrencyField()
    status = models.CharField(max_length=10, choices=PlanStatus.choices,
                              default=PlanStatus.DRAFT, editable=False)
    revision_number = models.PositiveIntegerField(default=0, editable=False)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+", editable=False)
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["-fiscal_year", "name", "id"]
        constraints = [
            # Two plans for the same team and year would overlap.
            models.UniqueConstraint(fields=["team", "fiscal_year"], name="plan_once_per_team_year"),
            models.UniqueConstraint(fields=["fiscal_year"], condition=Q(team__isnull=True),
                                    name="company_plan_once_per_year"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (FY{self.fiscal_year})"

    @property
    def is_revised_on_change(self) -> bool:
        return self.status in (PlanStatus.APPROVED, PlanStatus.ACTIVE)


class Objective(models.Model):
    """A target for one measure at one level (the plan's top, a team, a territory, a rep
    or a product line), by fiscal month. Children point to the objective they were
    allocated from and always add up to it month by month."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="objectives")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="children")
    measure = models.CharField(max_length=20, choices=Measure.choices)
    level = models.CharField(max_length=20, choices=Level.choices)
    team = models.ForeignKey("org.Team", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    territory = models.ForeignKey("territories.Territory", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                            on_delete=models.PROTECT, related_name="objectives")
    product_line = models.CharField(max_length=80, blank=True)
    method = models.CharField(max_length=30, choices=AllocationMethod.choices, blank=True,
                              help_text="How this objective's children were allocated.")

    class Meta:
        ordering = ["plan", "measure", "id"]
        indexes = [models.Index(fields=["plan", "measure", "level"]),
                   models.Index(fields=["rep", "plan"])]

    def __str__(self) -> str:
        return f"{self.get_measure_display()} · {self.label}"

    @property
    def label(self) -> str:
        if self.level == Level.REP and self.rep is not None:
            return str(self.rep)
        if self.level == Level.TEAM and self.team is not None:
            return str(self.team)
        if self.level == Level.TERRITORY and self.territory is not None:
            return str(self.territory)
        if self.level == Level.PRODUCT_LINE:
            return self.product_line
        return "Whole plan"


class MonthlyTarget(models.Model):
    """An objective's target for one fiscal month (1 = the fiscal year's first month)."""

    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="months")
    month = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(12)])
    target = AmountField(validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["objective", "month"]
        constraints = [models.UniqueConstraint(fields=["objective", "month"],
                                               name="one_target_per_objective_month")]

    def __str__(self) -> str:
        return f"{self.objective} M{self.month}: {self.target}"


class PlanRevision(TimeStampedModel):
    """A numbered, frozen copy of a plan's objectives: revision 1 is what was approved,
    every later one a change with its reason. Snapshots are never edited."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    reason = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    status = models.CharField(max_length=10, choices=PlanStatus.choices)
    snapshot = models.JSONField(default=list)

    class Meta:
        ordering = ["plan", "-number"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"],
                                               name="revision_number_once")]

    def __str__(self) -> str:
        return f"{self.plan} revision {self.number}"


class Commitment(TimeStampedModel):
    """What a rep commits to deliver for one measure in one fiscal month (bottom-up)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="commitments")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                            related_name="commitments")
    measure = models.CharField(max_length=20, choices=Measure.choices)
    month = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(12)])
    amount = AmountField(validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["plan", "rep", "measure", "month"]
        constraints = [models.UniqueConstraint(fields=["plan", "rep", "measure", "month"],
                                               name="one_commitment_per_rep_month")]

    def __str__(self) -> str:
        return f"{self.rep} {self.measure} M{self.month}: {self.amount}"


# What marketing commits to deliver to a team.
MARKETING_MEASURES = (Measure.LEADS, Measure.PIPELINE_CREATED)


class MarketingCommitment(TimeStampedModel):
    """What marketing commits to deliver to one team (leads, pipeline) in a fiscal month."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="marketing_commitments")
    team = models.ForeignKey("org.Team", on_delete=models.PROTECT, related_name="+")
    measure = models.CharField(max_length=20, choices=Measure.choices)
    month = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(12)])
    amount = AmountField(validators=[MinValueValidator(0)])
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                     on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["plan", "team", "measure", "month"]
        constraints = [models.UniqueConstraint(fields=["plan", "team", "measure", "month"],
                                               name="one_marketing_commitment_per_team_month")]

    def __str__(self) -> str:
        return f"Marketing → {self.team} {self.measure} M{self.month}: {self.amount}"


# --- effort allocation -------------------------------------------------------------------


class ResponseJudgement(TimeStampedModel):
    """The manager's judgement of how one account segment (tier × industry) responds to
    effort: expected bookings per account per month with no calls, with the current
    calls, with 50% more calls, and at saturation. Used instead of the fitted curve."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="judgements")
    tier = models.CharField(max_length=20, blank=True)
    industry = models.CharField(max_length=80, blank=True)
    current_calls = models.DecimalField(max_digits=8, decimal_places=2,
                                        validators=[MinValueValidator(0)],
                                        help_text="Calls per account per month today.")
    no_effort = AmountField(validators=[MinValueValidator(0)])
    current = AmountField(validators=[MinValueValidator(0)])
    plus_half = AmountField(validators=[MinValueValidator(0)])
    saturation = AmountField(validators=[MinValueValidator(0)])
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["plan", "tier", "industry"]
        constraints = [models.UniqueConstraint(fields=["plan", "tier", "industry"],
                                               name="one_judgement_per_segment")]

    def __str__(self) -> str:
        return f"{self.tier or 'any tier'} · {self.industry or 'any industry'}"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


PAYS_ABOVE_SEEN_MAX_PCT = 200


class EffortAllocationRun(VersionedModel):
    """One run of the effort optimiser for a plan: its inputs, the fitted curves and
    the data behind them, the optimal call plan per rep and what it is worth. Runs in
    the background; once applied, its call plan is the plan's activity targets. Until
    then a manager may change how far above the most calls seen they believe calls
    still pay (`pays_above_seen_pct`), with the run's version, and the run is redone."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="effort_runs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    job = models.ForeignKey("core.BackgroundJob", null=True, blank=True,
                            on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=RunStatus.choices,
                              default=RunStatus.QUEUED)
    params = models.JSONField(default=dict)
    pays_above_seen_pct = models.DecimalField(
        max_digits=5, decimal_places=1, null=True, blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(PAYS_ABOVE_SEEN_MAX_PCT)],
        help_text="The most calls a month you believe still pay, as % above the most seen "
                  "in the history (empty: no curve goes past the most seen, a manager's "
                  "curve past its +50% point).")
    result = models.JSONField(default=dict, blank=True)
    message = models.CharField(max_length=500, blank=True)
    current_profit = AmountField(null=True, blank=True)
    optimal_profit = AmountField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["plan", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"Effort allocation #{self.pk} for {self.plan}"


# --- resources ---------------------------------------------------------------------------


class PlanResource(TimeStampedModel):
    """One seat in the plan: a person already on the team, or a planned hire (no user
    yet) with a start date and a ramp-up. Says how many hours a day the seat sells and
    how many calls and meetings a selling day holds."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="resources")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200, blank=True, help_text="For a planned hire.")
    role = models.CharField(max_length=20, default="rep")
    team = models.ForeignKey("org.Team", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    ramp = models.JSONField(default=list, blank=True,
                            help_text="Percent productive in each month from the start, "
                                      "e.g. [25, 50, 75]; 100 after.")
    selling_hours_per_day = models.DecimalField(max_digits=5, decimal_places=2, default=6,
                                                validators=[MinValueValidator(0)])
    calls_per_day = models.DecimalField(max_digits=6, decimal_places=2, default=8,
                                        validators=[MinValueValidator(0)])
    meetings_per_day = models.DecimalField(max_digits=6, decimal_places=2, default=2,
                                           validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["plan", "name", "id"]
        constraints = [models.UniqueConstraint(fields=["plan", "user"],
                                               name="one_resource_per_person")]

    def __str__(self) -> str:
        return self.name or str(self.user)


class Leave(models.Model):
    """Days a seat does not sell (holiday, training, parental leave), both ends included."""

    resource = models.ForeignKey(PlanResource, on_delete=models.CASCADE, related_name="leave")
    start = models.DateField()
    end = models.DateField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["resource", "start"]

    def __str__(self) -> str:
        return f"{self.resource} off {self.start}–{self.end}"


class BudgetCategory(models.TextChoices):
    TRAVEL = "travel", "Travel"
    MARKETING = "marketing", "Marketing programmes"
    HIRING = "hiring", "Hiring"
    OTHER = "other", "Other"


class BudgetLine(TimeStampedModel):
    """Money the plan spends in a fiscal month on travel, programmes, hiring or other."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="budget_lines")
    category = models.CharField(max_length=20, choices=BudgetCategory.choices)
    description = models.CharField(max_length=200)
    team = models.ForeignKey("org.Team", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    month = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(12)])
    amount = AmountField(validators=[MinValueValidator(0)])
    currency = CurrencyField()

    class Meta:
        ordering = ["plan", "month", "category", "id"]

    def __str__(self) -> str:
        return f"{self.get_category_display()} M{self.month}: {self.amount} {self.currency}"


# --- evaluation and reviews --------------------------------------------------------------


class AlertSeverity(models.TextChoices):
    WATCH = "watch", "Watch"
    OFF_TRACK = "off_track", "Off track"


class PlanAlert(TimeStampedModel):
    """An objective that is off track on a day, raised for the manager who answers for
    it. One open alert per objective; evaluating again updates or resolves it."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="alerts")
    objective = models.ForeignKey(Objective, null=True, on_delete=models.SET_NULL,
                                  related_name="alerts")
    key = models.CharField(max_length=120)
    measure = models.CharField(max_length=20, choices=Measure.choices)
    level = models.CharField(max_length=20, choices=Level.choices)
    label = models.CharField(max_length=200)
    severity = models.CharField(max_length=10, choices=AlertSeverity.choices)
    message = models.CharField(max_length=500)
    manager = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                related_name="plan_alerts")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                            on_delete=models.SET_NULL, related_name="+")
    as_of = models.DateField()
    pacing = models.DecimalField(max_digits=9, decimal_places=1, null=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["plan", "-as_of", "severity", "label"]
        constraints = [models.UniqueConstraint(fields=["plan", "key"],
                                               condition=Q(resolved_at__isnull=True),
                                               name="one_open_alert_per_key")]

    def __str__(self) -> str:
        return f"{self.label}: {self.message}"


class PlanReview(TimeStampedModel):
    """A (monthly) review of the plan: the numbers on that day frozen as they were,
    with the manager's notes and decisions, so later reviews can be compared."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="reviews")
    as_of = models.DateField()
    fiscal_month = models.PositiveSmallIntegerField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    notes = models.TextField(blank=True)
    decisions = models.TextField(blank=True)
    revision_number = models.PositiveIntegerField(default=0)
    snapshot = models.JSONField(default=dict)

    class Meta:
        ordering = ["plan", "-as_of", "-id"]

    def __str__(self) -> str:
        return f"Review of {self.plan} on {self.as_of}"

