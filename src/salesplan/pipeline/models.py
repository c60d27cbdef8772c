"""Opportunities moving through the stages of a sales pipeline, with their history."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from salesplan.core.models import TimeStampedModel, VersionedModel
from salesplan.core.money import AmountField, CurrencyField
from salesplan.core.visibility import VisibleManager
from salesplan.customers.models import search_key


class PipelineKind(models.TextChoices):
    NEW_BUSINESS = "new_business", "New business"
    RENEWAL = "renewal", "Renewal"
    UPSELL = "upsell", "Upsell"
    OTHER = "other", "Other"


class Pipeline(TimeStampedModel):
    """A sequence of stages for one type of sale."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=PipelineKind.choices,
                            default=PipelineKind.NEW_BUSINESS)
    is_default = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class StageKind(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class Stage(models.Model):
    """One step of a pipeline with its default win probability."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=80)
    position = models.PositiveSmallIntegerField()
    probability = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    kind = models.CharField(max_length=10, choices=StageKind.choices, default=StageKind.OPEN)

    class Meta:
        ordering = ["pipeline", "position"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "position"], name="stage_position_unique"),
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.pipeline.name}: {self.name}" if self.pipeline_id else self.name

    @property
    def is_closed(self) -> bool:
        return self.kind != StageKind.OPEN


class ForecastCategory(models.TextChoices):
    PIPELINE = "pipeline", "Pipeline"
    BEST_CASE = "best_case", "Best case"
    COMMIT = "commit", "Commit"
    CLOSED = "closed", "Closed"
    OMITTED = "omitted", "Omitted"


class Opportunity(VersionedModel):
    """A deal we are working on with an account."""

    name = models.CharField(max_length=200)
    name_key = models.CharField(max_length=200, editable=False, db_index=True)
    account = models.ForeignKey("customers.Account", on_delete=models.PROTECT,
                                related_name="opportunities")
    contact = models.ForeignKey("customers.Contact", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="opportunities")
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="opportunities")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="opportunities")
    # Denormalised from the stage so lists filter open/won/lost on one indexed column.
    status = models.CharField(max_length=10, choices=StageKind.choices, default=StageKind.OPEN,
                              editable=False)
    amount = AmountField(default=0, validators=[MinValueValidator(0)])
    currency = CurrencyField()
    close_date = models.DateField()
    probability = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    forecast_category = models.CharField(max_length=20, choices=ForecastCategory.choices,
                                         default=ForecastCategory.PIPELINE)
    next_step = models.CharField(max_length=255, blank=True)
    lost_reason = models.CharField(max_length=255, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="opportunities")
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = VisibleManager()
    visibility_account_field = "account"

    class Meta:
        ordering = ["close_date", "id"]
        verbose_name_plural = "opportunities"
        indexes = [
            models.Index(fields=["owner", "close_date", "id"]),
            models.Index(fields=["owner", "stage", "close_date", "id"]),
            models.Index(fields=["stage", "close_date", "id"]),
            models.Index(fields=["close_date", "id"]),
            models.Index(fields=["owner", "status", "close_date"]),
            models.Index(fields=["account", "close_date"]),
            models.Index(fields=["owner", "name_key", "id"]),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.name_key = search_key(self.name)
        super().save(*args, **kwargs)


class OpportunityChange(models.Model):
    """A recorded change of stage, amount or close date: the raw material for cycle-time,
    forecast-accuracy and data-quality reports."""

    class Field(models.TextChoices):
        STAGE = "stage", "Stage"
        AMOUNT = "amount", "Amount"
        CLOSE_DATE = "close_date", "Close date"

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="changes")
    field = models.CharField(max_length=20, choices=Field.choices)
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    to_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    from_amount = AmountField(null=True, blank=True)
    to_amount = AmountField(null=True, blank=True)
    from_close_date = models.DateField(null=True, blank=True)
    to_close_date = models.DateField(null=True, blank=True)
    changed_at = models.DateTimeField(db_index=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["opportunity", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.opportunity_id} {self.field} {self.from_value} → {self.to_value}"

    @property
    def from_value(self):
        return {"stage": self.from_stage, "amount": self.from_amount,
                "close_date": self.from_close_date}[self.field]

    @property
    def to_value(self):
        return {"stage": self.to_stage, "amount": self.to_amount,
                "close_date": self.to_close_date}[self.field]
