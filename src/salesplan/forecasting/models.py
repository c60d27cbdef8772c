"""Forecast submissions, managers' adjustments and the weekly snapshots.

Nothing is ever overwritten: every submission and adjustment is a new row, and the
latest one for a rep (or a team) and a fiscal quarter is the current figure.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from salesplan.core.money import AmountField, CurrencyField


class PeriodFields(models.Model):
    """A fiscal quarter (fiscal year named after the year it ends in) and three figures."""

    fiscal_year = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    quarter = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(4)])
    commit = AmountField(validators=[MinValueValidator(0)])
    best_case = AmountField(validators=[MinValueValidator(0)])
    pipeline = AmountField(validators=[MinValueValidator(0)])
    currency = CurrencyField()

    class Meta:
        abstract = True

    @property
    def period_label(self) -> str:
        return f"FY{self.fiscal_year} Q{self.quarter}"


class ForecastSubmission(PeriodFields):
    """A rep's call for a fiscal quarter: commit, best case and pipeline."""

    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                            related_name="forecast_submissions")
    team = models.ForeignKey("org.Team", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", help_text="The rep's team when submitted.")
    note = models.CharField(max_length=1000, blank=True)
    submitted_at = models.DateTimeField(db_index=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                     on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["rep", "fiscal_year", "quarter", "submitted_at"]),
                   models.Index(fields=["fiscal_year", "quarter", "submitted_at"])]

    def __str__(self) -> str:
        return f"{self.rep} {self.period_label}"


class ForecastAdjustment(PeriodFields):
    """A manager's override of a team's rolled-up figures, with the reason."""

    team = models.ForeignKey("org.Team", on_delete=models.CASCADE,
                             related_name="forecast_adjustments")
    reason = models.CharField(max_length=1000)
    adjusted_at = models.DateTimeField(db_index=True)
    adjusted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-adjusted_at", "-id"]
        indexes = [models.Index(fields=["team", "fiscal_year", "quarter", "adjusted_at"])]

    def __str__(self) -> str:
        return f"{self.team} {self.period_label} adjusted"


class ForecastSnapshot(PeriodFields):
    """The forecast of one rep, one team or the company as it stood in one week.

    `scope` is "company", "team:<id>" or "rep:<id>"; one row per scope, quarter and week
    (a second snapshot in the same week replaces the first)."""

    scope = models.CharField(max_length=30)
    team = models.ForeignKey("org.Team", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                            on_delete=models.CASCADE, related_name="+")
    week_of = models.DateField(help_text="Monday of the snapshot's week.")
    closed_won = AmountField(default=0)
    weighted_pipeline = AmountField(default=0)
    adjusted = models.BooleanField(default=False)
    taken_at = models.DateTimeField()

    class Meta:
        ordering = ["week_of", "scope"]
        constraints = [models.UniqueConstraint(
            fields=["scope", "fiscal_year", "quarter", "week_of"], name="snapshot_unique_week")]
        indexes = [models.Index(fields=["fiscal_year", "quarter", "scope", "week_of"])]

    def __str__(self) -> str:
        return f"{self.scope} {self.period_label} week of {self.week_of}"


class StageOutcome(models.Model):
    """How many closed deals that passed through a stage were won or lost, by the month
    they closed: the stage history condensed so calibration over any window of months
    reads a few hundred rows instead of the whole history. Rebuilt by
    `calibration.refresh_outcomes` (the nightly job, `salesplan forecasts refresh`)."""

    stage = models.ForeignKey("pipeline.Stage", on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="First day of the month the deals closed in.")
    won = models.PositiveIntegerField(default=0)
    lost = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["stage", "month"],
                                               name="stage_outcome_unique_month")]

    def __str__(self) -> str:
        return f"{self.stage_id} {self.month:%Y-%m}: {self.won} won, {self.lost} lost"
