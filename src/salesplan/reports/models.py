"""The reports people save and schedule. The figures reports are made of are the
rollups of `salesplan.metrics`, which plan vs actual and forecasts read too."""

from django.conf import settings
from django.db import models

from salesplan.core.models import VersionedModel


class SavedReport(VersionedModel):
    """A report with its filters, kept under a name by its owner; shared with the owner's
    team when `shared` is set (others see it, only the owner changes it)."""

    name = models.CharField(max_length=120)
    report = models.CharField(max_length=40)
    filters = models.JSONField(default=dict)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="saved_reports")
    shared = models.BooleanField(default=False)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"],
                                               name="saved_report_name_once")]

    def __str__(self) -> str:
        return self.name


class Frequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"


class ScheduledReport(VersionedModel):
    """Delivery of a saved report by email at a frequency, with the export attached.
    The report runs as its owner, so recipients get what the owner may see."""

    saved_report = models.ForeignKey(SavedReport, on_delete=models.CASCADE,
                                      related_name="schedules")
    recipients = models.JSONField(default=list, help_text="Email addresses.")
    frequency = models.CharField(max_length=10, choices=Frequency.choices,
                                 default=Frequency.WEEKLY)
    format = models.CharField(max_length=4, default="xlsx")
    next_run = models.DateTimeField(db_index=True)
    last_run = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                   related_name="+")

    class Meta:
        ordering = ["next_run", "id"]

    def __str__(self) -> str:
        return f"{self.saved_report} {self.frequency}"
