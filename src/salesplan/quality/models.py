"""Quality control of the sales data and process: the company's thresholds, the
required-field policy, likely duplicates and merges, reviewed items and score history."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from salesplan.core.models import TimeStampedModel, VersionedModel


class RecordType(models.TextChoices):
    ACCOUNT = "account", "Account"
    CONTACT = "contact", "Contact"
    LEAD = "lead", "Lead"
    OPPORTUNITY = "opportunity", "Opportunity"


DUPLICATE_TYPES = (RecordType.ACCOUNT, RecordType.CONTACT, RecordType.LEAD)


class QualitySettings(VersionedModel):
    """The company's thresholds for the process checks (one row; admins edit it)."""

    stale_after_days = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="An open opportunity with no activity dated in this many days, and none "
                  "planned, is stale.")
    close_date_pushes = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="Flag an open opportunity whose close date was pushed back this often.")
    stage_history_days = models.PositiveSmallIntegerField(
        default=90, validators=[MinValueValidator(1), MaxValueValidator(730)],
        help_text="Look this far back for skipped or reversed stages.")
    lead_first_touch_hours = models.PositiveSmallIntegerField(
        default=48, validators=[MinValueValidator(1), MaxValueValidator(24 * 30)],
        help_text="A new lead must get a first activity within this many hours.")
    duplicate_threshold = models.PositiveSmallIntegerField(
        default=85, validators=[MinValueValidator(50), MaxValueValidator(100)],
        help_text="Pairs scoring at least this (0–100) are listed as likely duplicates.")
    quote_approval_wait_days = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="A quote over a limit of the approval matrix that is still a draft, or "
                  "still waiting for an approval, after this many days is flagged.")

    class Meta:
        verbose_name_plural = "quality settings"

    def __str__(self) -> str:
        return "Quality settings"

    @classmethod
    def current(cls) -> "QualitySettings":
        found = cls.objects.order_by("id").first()
        return found if found is not None else cls.objects.create()


class RequiredField(VersionedModel):
    """A field that must be filled in on every record of a type (for opportunities,
    optionally only from a given stage on, e.g. amount and contact from "Proposal")."""

    record_type = models.CharField(max_length=20, choices=RecordType.choices)
    field = models.CharField(max_length=60)
    stage = models.ForeignKey("pipeline.Stage", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="+",
                              help_text="Opportunities only: from this stage on (same pipeline).")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["record_type", "field", "id"]
        constraints = [
            models.UniqueConstraint(fields=["record_type", "field", "stage"],
                                    name="required_field_once"),
            models.UniqueConstraint(fields=["record_type", "field"],
                                    condition=models.Q(stage__isnull=True),
                                    name="required_field_once_any_stage"),
        ]

    def __str__(self) -> str:
        where = f" from {self.stage}" if self.stage_id else ""
        return f"{self.get_record_type_display()}: {self.field}{where}"


class DuplicateScan(TimeStampedModel):
    """One run of the duplicate scan over all records of a type."""

    record_type = models.CharField(max_length=20, choices=RecordType.choices)
    job = models.ForeignKey("core.BackgroundJob", null=True, blank=True,
                            on_delete=models.SET_NULL, related_name="+")
    records = models.PositiveIntegerField(default=0)
    pairs_compared = models.PositiveBigIntegerField(default=0)
    candidates = models.PositiveIntegerField(default=0)
    seconds = models.DecimalField(max_digits=9, decimal_places=2, default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.record_type} scan #{self.pk}"


class DuplicateStatus(models.TextChoices):
    OPEN = "open", "Open"
    DISMISSED = "dismissed", "Not a duplicate"
    MERGED = "merged", "Merged"


class DuplicateCandidate(TimeStampedModel):
    """Two records that look like the same person or company (left id < right id)."""

    record_type = models.CharField(max_length=20, choices=RecordType.choices)
    left_id = models.BigIntegerField()
    right_id = models.BigIntegerField()
    score = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    reasons = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=DuplicateStatus.choices,
                              default=DuplicateStatus.OPEN)
    scan = models.ForeignKey(DuplicateScan, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="candidates_found")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["record_type", "left_id", "right_id"],
                                    name="duplicate_pair_once"),
            models.CheckConstraint(condition=models.Q(left_id__lt=models.F("right_id")),
                                   name="duplicate_pair_ordered"),
        ]
        indexes = [
            models.Index(fields=["record_type", "status", "-score", "id"]),
            models.Index(fields=["record_type", "right_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.record_type} {self.left_id} ~ {self.right_id} ({self.score})"


class Merge(models.Model):
    """A merge of two records: the survivor, the merged record's values as they were,
    which of its values were kept and how many related records moved."""

    record_type = models.CharField(max_length=20, choices=RecordType.choices)
    survivor_id = models.BigIntegerField(db_index=True)
    merged_id = models.BigIntegerField(db_index=True)
    merged_values = models.JSONField(default=dict)
    kept_from_merged = models.JSONField(default=list)
    moved = models.JSONField(default=dict)
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                  related_name="+")
    merged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-merged_at", "-id"]

    def __str__(self) -> str:
        return f"{self.record_type} {self.merged_id} → {self.survivor_id}"


class Review(models.Model):
    """A manager has looked at a flagged item (a pushed close date, a skipped stage) and
    accepts it; the item stays off the list until the record is flagged anew after it."""

    check_key = models.CharField(max_length=40)
    record_id = models.BigIntegerField()
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-reviewed_at", "-id"]
        indexes = [models.Index(fields=["check_key", "record_id", "reviewed_at"])]

    def __str__(self) -> str:
        return f"{self.check_key} #{self.record_id} reviewed"


class ScoreSnapshot(models.Model):
    """A data-quality score on one day, for one rep (user) or one team (with its
    sub-teams) or the whole company (neither): 100 − weighted issues per 100 records."""

    taken_on = models.DateField(db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey("org.Team", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    records = models.PositiveIntegerField()
    weighted_issues = models.PositiveIntegerField()
    score = models.DecimalField(max_digits=5, decimal_places=1)
    issues = models.JSONField(default=dict)

    class Meta:
        ordering = ["taken_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["taken_on", "user"], condition=models.Q(
                user__isnull=False), name="score_snapshot_user_once"),
            models.UniqueConstraint(fields=["taken_on", "team"], condition=models.Q(
                team__isnull=False), name="score_snapshot_team_once"),
            models.UniqueConstraint(fields=["taken_on"], condition=models.Q(
                user__isnull=True, team__isnull=True), name="score_snapshot_company_once"),
        ]
        indexes = [models.Index(fields=["user", "taken_on"]),
                   models.Index(fields=["team", "taken_on"])]

    def __str__(self) -> str:
        return f"{self.taken_on} {self.user or self.team or 'company'}: {self.score}"


class StageJump(models.Model):
    """A recorded stage change that skipped a stage or went back, copied from the
    opportunity history as it grows (see checks.sync_stage_jumps), so the check reads a
    short table instead of every stage change in the window."""

    opportunity = models.ForeignKey("pipeline.Opportunity", on_delete=models.CASCADE,
                                    related_name="+")
    change_id = models.BigIntegerField(unique=True)
    from_stage = models.ForeignKey("pipeline.Stage", on_delete=models.CASCADE, related_name="+")
    to_stage = models.ForeignKey("pipeline.Stage", on_delete=models.CASCADE, related_name="+")
    changed_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["opportunity", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.opportunity_id}: {self.from_stage_id} → {self.to_stage_id}"


class SyncMark(models.Model):
    """How far a copied table has read its source (the last source id read)."""

    name = models.CharField(max_length=40, unique=True)
    last_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} at {self.last_id}"


class IssueCountRun(models.Model):
    """One full count of every check over every record (see counting.refresh_issue_counts):
    the moment the figures are true of, and how long counting took."""

    counted_at = models.DateTimeField(db_index=True)
    seconds = models.DecimalField(max_digits=9, decimal_places=2, default=0)
    checks = models.JSONField(default=list)

    class Meta:
        ordering = ["-counted_at", "-id"]

    def __str__(self) -> str:
        return f"Issue count of {self.counted_at:%Y-%m-%d %H:%M}"


class IssueCount(models.Model):
    """How many records one check flags for one owner, as of its run's time. The
    company-wide overview reads these instead of counting millions of records."""

    run = models.ForeignKey(IssueCountRun, on_delete=models.CASCADE, related_name="counts")
    check_key = models.CharField(max_length=40)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE,
                              related_name="+")
    count = models.PositiveIntegerField()

    class Meta:
        ordering = ["run", "check_key", "owner"]
        constraints = [models.UniqueConstraint(fields=["run", "check_key", "owner"],
                                               name="issue_count_once_per_run")]

    def __str__(self) -> str:
        return f"{self.check_key} / {self.owner_id}: {self.count}"
