"""Shared building blocks: timestamps, optimistic locking and the audit trail."""

from django.conf import settings
from django.db import models


class TimeStampedModel(models.Model):
    """Adds creation and last-change times to a record."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Versioned(models.Model):
    """`version` grows on every change; a change that names an older version is refused
    instead of silently overwriting (see core.records.claim_version)."""

    version = models.PositiveIntegerField(default=1)

    class Meta:
        abstract = True


class VersionedModel(Versioned, TimeStampedModel):
    """A record edited by several people, with its timestamps and its version."""

    class Meta:
        abstract = True


class AuditEntry(models.Model):
    """One change to one field of one record: who, when, from what, to what."""

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Changed"
        DELETE = "delete", "Deleted"

    record_type = models.CharField(max_length=40)
    record_id = models.BigIntegerField()
    action = models.CharField(max_length=10, choices=Action.choices)
    field = models.CharField(max_length=60, blank=True)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    changed_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["record_type", "record_id", "changed_at"])]
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.record_type}#{self.record_id} {self.action} {self.field}"


class BackgroundJob(TimeStampedModel):
    """Long work (imports, exports, assignment runs, optimisations) that the user follows
    with a progress bar and whose outcome stays readable afterwards."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                   related_name="jobs")
    params = models.JSONField(default=dict, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    result = models.JSONField(default=dict, blank=True)
    file = models.FileField(upload_to="jobs/%Y/%m/", blank=True)
    task_result_id = models.CharField(max_length=64, blank=True)
    # The django.tasks task that runs it, so a job whose message a broker lost can be
    # enqueued again (`salesplan jobs recover`).
    task_path = models.CharField(max_length=200, blank=True)
    # How many times a worker started it: a worker that dies mid-job hands the message
    # back to the broker, and the job runs again from the start (its writes are one
    # transaction, so nothing of the first attempt remains).
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "-created_at"]),
                   models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.progress_total:
            return 0
        return min(100, int(100 * self.progress_done / self.progress_total))

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)
