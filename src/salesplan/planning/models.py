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
