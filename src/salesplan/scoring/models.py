"""Lead scoring: the rules marketing configures, each lead's score, and trained models."""

from django.conf import settings
from django.db import models

from salesplan.core.models import VersionedModel


class RuleKind(models.TextChoices):
    FIT = "fit", "Fit"
    ENGAGEMENT = "engagement", "Engagement"


class Operator(models.TextChoices):
    EQUALS = "equals", "is"
    NOT_EQUALS = "not_equals", "is not"
    IN = "in", "is one of (comma-separated)"
    NOT_IN = "not_in", "is none of (comma-separated)"
    CONTAINS = "contains", "contains"
    IS_SET = "is_set", "is filled in"
    AT_LEAST = "at_least", "is at least"
    AT_MOST = "at_most", "is at most"
    BETWEEN = "between", "is between (LOW-HIGH)"


class ScoringRule(VersionedModel):
    """Points a lead earns when a condition on its facts holds (e.g. industry is one of
    Healthcare, Biotech: +20 fit; two or more meetings: +15 engagement)."""

    kind = models.CharField(max_length=12, choices=RuleKind.choices)
    field = models.CharField(max_length=40)
    operator = models.CharField(max_length=12, choices=Operator.choices)
    value = models.CharField(max_length=500, blank=True)
    points = models.SmallIntegerField()
    label = models.CharField(max_length=120, blank=True,
                             help_text="Shown as the reason; generated when left empty.")
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-kind", "id"]  # fit rules first

    def __str__(self) -> str:
        return self.label or self.condition

    @property
    def condition(self) -> str:
        """The condition in words: "employees is between 100-5000"."""
        from salesplan.engines.lead_scoring import OPERATOR_LABELS

        words = OPERATOR_LABELS.get(self.operator, self.operator)
        return f"{self.field} {words} {self.value}".strip()


class Grade(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"


class LeadScore(models.Model):
    """A lead's latest score: rule points (fit, engagement, total, grade) with the rules
    that gave them, and the predictive probability of conversion with its main reasons."""

    lead = models.OneToOneField("customers.Lead", on_delete=models.CASCADE, primary_key=True,
                                related_name="score")
    fit = models.IntegerField(default=0)
    engagement = models.IntegerField(default=0)
    total = models.IntegerField(default=0)
    grade = models.CharField(max_length=1, choices=Grade.choices, default=Grade.D)
    reasons = models.JSONField(default=list, blank=True)
    probability = models.FloatField(null=True, blank=True,
                                    help_text="Predicted chance of conversion (0–1).")
    predictive_reasons = models.JSONField(default=list, blank=True)
    model = models.ForeignKey("ScoringModel", null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["-total", "lead"], name="leadscore_total"),
            models.Index(fields=["-probability", "lead"], name="leadscore_probability"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.total} ({self.grade})"

    @property
    def percent(self) -> int | None:
        return None if self.probability is None else round(100 * self.probability)


class ModelStatus(models.TextChoices):
    TRAINED = "trained", "Trained"
    REFUSED = "refused", "Refused: too little history"


class ScoringModel(models.Model):
    """One training of the predictive score: its held-out accuracy and calibration and its
    parameters as plain JSON numbers. A refused training is kept too, with the reason."""

    version = models.PositiveIntegerField(unique=True)
    status = models.CharField(max_length=10, choices=ModelStatus.choices)
    trained_at = models.DateTimeField()
    trained_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True, help_text="Why training was refused.")
    settings = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    calibration = models.JSONField(default=list, blank=True)
    parameters = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-version"]
        get_latest_by = "version"

    def __str__(self) -> str:
        return f"Model v{self.version} ({self.get_status_display()})"

    # Below this held-out AUC the model ranks leads little better than a coin toss.
    WEAK_AUC = 0.6

    @property
    def weak(self) -> bool:
        return self.status == ModelStatus.TRAINED and self.metrics.get("auc", 0) < self.WEAK_AUC
