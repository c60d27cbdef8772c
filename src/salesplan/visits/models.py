"""Field visits: how often each account is seen, each rep's planned days and what came of
each visit."""

from datetime import time
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from salesplan.core.models import TimeStampedModel, VersionedModel
from salesplan.core.visibility import VisibleManager
from salesplan.customers.models import Tier


class VisitSettings(VersionedModel):
    """The company's visit-planning settings: how travel time is estimated (straight-line
    distance × circuity at an average speed, or a routing server's table), the horizon,
    the default visit and lunch, and how hard the router works on each day."""

    circuity = models.DecimalField(
        max_digits=4, decimal_places=2, default=Decimal("1.30"),
        validators=[MinValueValidator(1), MaxValueValidator(3)],
        help_text="Road distance ÷ straight-line distance (1.2–1.4 in most regions).")
    average_speed_kmh = models.PositiveSmallIntegerField(
        default=50, validators=[MinValueValidator(5), MaxValueValidator(150)])
    routing_server_url = models.URLField(
        blank=True, help_text="An OSRM server's address; its table service gives travel "
                              "times instead of the estimate.")
    horizon_days = models.PositiveSmallIntegerField(
        default=28, validators=[MinValueValidator(7), MaxValueValidator(91)])
    default_duration_minutes = models.PositiveSmallIntegerField(
        default=45, validators=[MinValueValidator(5), MaxValueValidator(480)])
    lunch_earliest = models.TimeField(default=time(12, 0))
    lunch_latest = models.TimeField(default=time(13, 30))
    lunch_minutes = models.PositiveSmallIntegerField(default=30,
                                                     validators=[MaxValueValidator(180)])
    solver_solutions = models.PositiveIntegerField(
        default=20, validators=[MinValueValidator(1), MaxValueValidator(10_000)],
        help_text="Solutions the router examines per day: more is slower and a little "
                  "shorter.")

    class Meta:
        verbose_name_plural = "visit settings"

    def __str__(self) -> str:
        return "Visit settings"


class FrequencyRule(VersionedModel):
    """Visits a month for the accounts of a tier (and, when given, an industry), used for
    accounts with no frequency of their own and none from the applied effort plan."""

    tier = models.CharField(max_length=20, choices=Tier.choices, blank=True,
                            help_text="Empty: every tier.")
    industry = models.CharField(max_length=80, blank=True, help_text="Empty: every industry.")
    visits_per_month = models.DecimalField(
        max_digits=5, decimal_places=2, validators=[MinValueValidator(0),
                                                    MaxValueValidator(31)])
    duration_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(5), MaxValueValidator(480)])

    class Meta:
        ordering = ["tier", "industry", "id"]
        constraints = [models.UniqueConstraint(fields=["tier", "industry"],
                                               name="one_visit_rule_per_segment")]

    def __str__(self) -> str:
        return f"{self.tier or 'any tier'}/{self.industry or 'any industry'}: " \
               f"{self.visits_per_month} a month"


class VisitProfile(VersionedModel):
    """How an account is visited: a frequency set by hand (else the effort plan's or its
    tier's), how long a visit takes, its opening hours and the dates it cannot be seen."""

    account = models.OneToOneField("customers.Account", on_delete=models.CASCADE,
                                   related_name="visit_profile")
    visits_per_month = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(31)],
        help_text="Set by hand; empty takes the effort plan's or the tier's.")
    duration_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(5), MaxValueValidator(480)])
    # {"0": [["08:00", "12:00"], ["13:00", "17:00"]], ...}, Monday = "0"; a weekday left out
    # is closed; empty means open whenever the rep works.
    opening_hours = models.JSONField(default=dict, blank=True)
    no_visit_dates = models.JSONField(default=list, blank=True,
                                      help_text="ISO dates the account cannot be visited.")

    objects = VisibleManager()
    visibility_owner_field = "account__owner"
    visibility_account_field = "account"

    def __str__(self) -> str:
        return f"Visits to {self.account}"


class VisitStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    CHECKED_IN = "checked_in", "Checked in"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"


class VisitPlanRun(TimeStampedModel):
    """One planning of reps' visits over a horizon (a background job), with each visit
    it could not plan and why."""

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    job = models.ForeignKey("core.BackgroundJob", null=True, blank=True,
                            on_delete=models.SET_NULL, related_name="+")
    start = models.DateField()
    days = models.PositiveSmallIntegerField()
    rep_ids = models.JSONField(default=list)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Visit plan from {self.start} ({self.days} days)"


class PlannedDay(models.Model):
    """A rep's routed day: when they leave home and are back, lunch, and the driving."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="+")
    day = models.DateField()
    leave_home = models.TimeField(null=True, blank=True)
    back_home = models.TimeField(null=True, blank=True)
    lunch_start = models.TimeField(null=True, blank=True)
    travel_minutes = models.DecimalField(max_digits=7, decimal_places=1, default=0)
    travel_km = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    run = models.ForeignKey(VisitPlanRun, null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="+")

    objects = VisibleManager()
    visibility_roles_seeing_none = ("rep",)

    class Meta:
        ordering = ["owner", "day"]
        constraints = [models.UniqueConstraint(fields=["owner", "day"],
                                               name="one_planned_day_per_rep")]

    def __str__(self) -> str:
        return f"{self.owner} on {self.day}"


class PlannedVisit(VersionedModel):
    """One visit in a rep's plan: the account, the day and time, and what came of it
    (checked in and out with the activity it logged, or skipped with the reason)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="planned_visits")
    account = models.ForeignKey("customers.Account", on_delete=models.CASCADE,
                                related_name="planned_visits")
    day = models.DateField()
    sequence = models.PositiveSmallIntegerField(default=0)
    arrive = models.TimeField(null=True, blank=True)
    starts = models.TimeField(null=True, blank=True)
    ends = models.TimeField(null=True, blank=True)
    travel_minutes = models.DecimalField(max_digits=6, decimal_places=1, default=0)
    travel_km = models.DecimalField(max_digits=7, decimal_places=2, default=0)
    status = models.CharField(max_length=12, choices=VisitStatus.choices,
                              default=VisitStatus.PLANNED)
    reason = models.CharField(max_length=300, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    activity = models.ForeignKey("activities.Activity", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    run = models.ForeignKey(VisitPlanRun, null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="visits")

    objects = VisibleManager()
    visibility_roles_seeing_none = ("rep",)  # a rep sees their own visits only

    class Meta:
        ordering = ["owner", "day", "sequence", "id"]
        indexes = [models.Index(fields=["owner", "day", "sequence", "id"]),
                   models.Index(fields=["account", "day"]),
                   models.Index(fields=["day", "id"])]

    def __str__(self) -> str:
        return f"Visit to {self.account} on {self.day}"


class UnmetVisit(models.Model):
    """A visit a plan run could not fit, and why."""

    run = models.ForeignKey(VisitPlanRun, on_delete=models.CASCADE, related_name="unmet")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="+")
    account = models.ForeignKey("customers.Account", on_delete=models.CASCADE,
                                related_name="+")
    day = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=200)

    objects = VisibleManager()
    visibility_roles_seeing_none = ("rep",)

    class Meta:
        ordering = ["run", "owner", "account", "id"]

    def __str__(self) -> str:
        return f"{self.account}: {self.reason}"
