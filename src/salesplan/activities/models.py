"""The personal-selling log: calls, meetings, emails, tasks and notes."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models

from salesplan.core.models import VersionedModel
from salesplan.core.visibility import VisibleManager


class ActivityKind(models.TextChoices):
    CALL = "call", "Call"
    MEETING = "meeting", "Meeting"
    EMAIL = "email", "Email"
    TASK = "task", "Task"
    NOTE = "note", "Note"


class Outcome(models.TextChoices):
    NONE = "", "—"
    CONNECTED = "connected", "Connected"
    LEFT_MESSAGE = "left_message", "Left message"
    NO_ANSWER = "no_answer", "No answer"
    POSITIVE = "positive", "Positive"
    NEUTRAL = "neutral", "Neutral"
    NEGATIVE = "negative", "Negative"
    RESCHEDULED = "rescheduled", "Rescheduled"


class Activity(VersionedModel):
    """One selling action, planned or done, linked to the records it concerns."""

    kind = models.CharField(max_length=10, choices=ActivityKind.choices)
    subject = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    due_at = models.DateTimeField(help_text="When it happens or is due.")
    duration_minutes = models.PositiveIntegerField(default=0,
                                                   validators=[MaxValueValidator(24 * 60)])
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="activities")
    account = models.ForeignKey("customers.Account", null=True, blank=True,
                                on_delete=models.CASCADE, related_name="activities")
    contact = models.ForeignKey("customers.Contact", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="activities")
    opportunity = models.ForeignKey("pipeline.Opportunity", null=True, blank=True,
                                    on_delete=models.CASCADE, related_name="activities")
    lead = models.ForeignKey("customers.Lead", null=True, blank=True,
                             on_delete=models.CASCADE, related_name="activities")

    objects = VisibleManager()
    visibility_account_field = "account"

    class Meta:
        ordering = ["-due_at", "-id"]
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["owner", "done", "due_at"]),
            models.Index(fields=["owner", "due_at", "id"]),
            models.Index(fields=["account", "due_at"]),
            models.Index(fields=["opportunity", "due_at"]),
            models.Index(fields=["contact", "due_at"]),
            models.Index(fields=["lead", "due_at"]),
            models.Index(fields=["due_at", "id"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"
