"""The work inbox: one list per user of what waits for them.

An item names its kind, the record it is about (``key``, e.g. ``approval:12``) and where
to go. Work items (an approval step to sign, a lead to touch, an exception to decide, a
plan alert) are closed by the app that owns the work when it is done; notices (a quote's
decision, a mention, a finished job) are dismissed by their reader. One open item per
user and key: telling someone again about the same thing refreshes it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from salesplan.core.models import VersionedModel


class Kind(models.TextChoices):
    APPROVAL = "approval", "Quote approvals to sign"
    LEAD = "lead", "Leads to touch"
    QUOTE_DECISION = "quote_decision", "Quote decisions"
    PLAN_ALERT = "plan_alert", "Plan alerts"
    BOUNDARY_EXCEPTION = "boundary_exception", "Boundary exceptions to decide"
    MENTION = "mention", "Mentions in comments"
    JOB = "job", "Background jobs"
    PAY_DISPUTE = "pay_dispute", "Pay disputes to answer"
    PAY_DISPUTE_ANSWER = "pay_dispute_answer", "Answers to your pay disputes"


# Kinds that are news rather than work: nothing closes them but their reader.
NOTICE_KINDS = frozenset({Kind.QUOTE_DECISION, Kind.MENTION, Kind.JOB,
                          Kind.PAY_DISPUTE_ANSWER})


class Delivery(models.TextChoices):
    APP = "app", "In the app only"
    EMAIL = "email", "Email at once"
    DIGEST = "digest", "Daily digest email"


class Closed(models.TextChoices):
    DONE = "done", "Done"
    DISMISSED = "dismissed", "Dismissed"


class InboxItemQuerySet(models.QuerySet):
    def open(self) -> "InboxItemQuerySet":
        return self.filter(closed_at__isnull=True)


class InboxItem(models.Model):
    """One thing waiting for one user, with the link to its record."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="inbox_items")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=100, help_text="The record it is about, e.g. lead:12.")
    title = models.CharField(max_length=300)
    detail = models.CharField(max_length=500, blank=True)
    url = models.CharField(max_length=500, blank=True)
    due_at = models.DateTimeField(null=True, blank=True,
                                  help_text="A deadline (a lead's first touch).")
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_how = models.CharField(max_length=10, choices=Closed.choices, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True,
                                      help_text="When it went out by email or in a digest.")

    objects = InboxItemQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"],
                                               condition=Q(closed_at__isnull=True),
                                               name="one_open_inbox_item_per_key")]
        indexes = [models.Index(fields=["user", "closed_at", "-created_at", "-id"]),
                   models.Index(fields=["key", "closed_at"])]

    def __str__(self) -> str:
        return f"{self.user}: {self.title}"

    @property
    def is_notice(self) -> bool:
        return self.kind in NOTICE_KINDS


class InboxSettings(VersionedModel):
    """How a user wants to hear of each kind of item: in the app only (the default),
    an email at once, or a daily digest email."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="inbox_settings")
    delivery = models.JSONField(default=dict, blank=True,
                                help_text="Kind → app, email or digest; a missing kind is app.")
    last_digest_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user}: inbox delivery"

    def delivery_of(self, kind: str) -> str:
        return self.delivery.get(kind, Delivery.APP)
