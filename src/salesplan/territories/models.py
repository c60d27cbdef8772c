"""Territories: how the market is divided so every account has one clear owner.

An Alignment is one version of the whole territory map. Drafts are edited and previewed
while the active alignment keeps deciding ownership and visibility; activating a draft
archives the old one, which stays readable.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from salesplan.core.models import TimeStampedModel, Versioned, VersionedModel
from salesplan.core.money import AmountField, CurrencyField


def new_token() -> str:
    return uuid.uuid4().hex


class Alignment(VersionedModel):
    """One version of the territory map (hierarchy, boundaries, members)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    based_on = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    activated_at = models.DateTimeField(null=True, blank=True)
    activated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    # Grows with every change to territories, rules or named accounts, so compiled
    # rules can be cached and stale assignment results recognised.
    rules_version = models.PositiveIntegerField(default=1)
    # A fresh random token with every change: caches key on it, because a version
    # number can repeat when the transaction that raised it is rolled back.
    rules_token = models.CharField(max_length=32, default=new_token, editable=False)
    assigned_version = models.PositiveIntegerField(default=0)
    assigned_at = models.DateTimeField(null=True, blank=True)
    conflict_count = models.PositiveIntegerField(default=0)
    unclaimed_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=Q(status="active"),
                                    name="one_active_alignment"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_status_display()})"

    @property
    def is_editable(self) -> bool:
        return self.status != self.Status.ARCHIVED

    @property
    def results_current(self) -> bool:
        return self.assigned_version == self.rules_version


class TerritoryType(models.TextChoices):
    GEOGRAPHIC = "geographic", "Geographic"
    NAMED_ACCOUNT = "named_account", "Named accounts"
    VERTICAL = "vertical", "Vertical (industry)"
    OVERLAY = "overlay", "Overlay"


class Territory(VersionedModel):
    """A region, district or territory; nests to any depth within one alignment.

    When territories of the same type claim an account, the higher priority wins, then
    the deeper (more specific) territory."""

    alignment = models.ForeignKey(Alignment, on_delete=models.CASCADE, related_name="territories")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children")
    name = models.CharField(max_length=120)
    type = models.CharField(max_length=20, choices=TerritoryType.choices,
                            default=TerritoryType.GEOGRAPHIC)
    priority = models.IntegerField(default=0, help_text="Higher wins when territories overlap.")
    description = models.TextField(blank=True)
    area_sq_km = models.DecimalField(max_digits=12, decimal_places=1, null=True, blank=True)

    class Meta:
        ordering = ["alignment", "name", "id"]
        verbose_name_plural = "territories"
        constraints = [
            models.UniqueConstraint(fields=["alignment", "name"], name="territory_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class RuleCombine(models.TextChoices):
    ALL = "all", "All conditions (AND)"
    ANY = "any", "Any condition (OR)"


class BoundaryRule(VersionedModel):
    """Conditions on account fields that put accounts into a territory.

    `conditions` is a list of {"field", "op", "values"} (see engines.territory_rules);
    a territory's rules are alternatives: an account matching any of them is claimed."""

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveIntegerField(help_text="The rule's number within its territory.")
    combine = models.CharField(max_length=3, choices=RuleCombine.choices, default=RuleCombine.ALL)
    conditions = models.JSONField(default=list)

    class Meta:
        ordering = ["territory", "position"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "position"], name="rule_position_unique"),
        ]

    def __str__(self) -> str:
        return f"rule {self.position} of {self.territory}"


class NamedAccount(Versioned):
    """An account put into (include) or kept out of (exclude) a territory by name."""

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE,
                                  related_name="named_accounts")
    account = models.ForeignKey("customers.Account", on_delete=models.CASCADE, related_name="+")
    include = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["territory", "account"], name="named_account_once"),
        ]

    def __str__(self) -> str:
        return f"{'+' if self.include else '−'} {self.account_id} in {self.territory}"


class MemberRole(models.TextChoices):
    OWNER = "owner", "Owner"
    OVERLAY = "overlay", "Overlay"
    MANAGER = "manager", "Manager"


class TerritoryMember(VersionedModel):
    """A person working a territory, with a role and the dates it applies."""

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="territory_memberships")
    role = models.CharField(max_length=10, choices=MemberRole.choices, default=MemberRole.OWNER)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["territory", "role", "start_date"]
        indexes = [models.Index(fields=["user", "territory"])]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.territory}"


class AccountTerritory(models.Model):
    """The result of assignment: this account belongs to this territory, and why.

    One row per account, alignment and territory type. Indexes are kept to the two the
    reads need, because a full run writes a million of these rows."""

    # No database-level foreign keys: checking three parents per row doubled the time
    # of writing a million results on SQLite. Deletes still cascade (Django does it),
    # and the engine only ever writes ids it has just read.
    account = models.ForeignKey("customers.Account", on_delete=models.CASCADE, db_index=False,
                                db_constraint=False, related_name="territory_assignments")
    alignment = models.ForeignKey(Alignment, on_delete=models.CASCADE, db_index=False,
                                  db_constraint=False, related_name="+")
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, db_index=False,
                                  db_constraint=False, related_name="assignments")
    type = models.CharField(max_length=20, choices=TerritoryType.choices)
    reason = models.CharField(max_length=300)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "alignment", "type"],
                                    name="one_territory_per_type"),
        ]
        indexes = [models.Index(fields=["territory", "account"], name="territory_accounts")]

    def __str__(self) -> str:
        return f"{self.account_id} → {self.territory_id} ({self.reason})"


class AssignmentConflict(models.Model):
    """Territories of one type tied for an account; the manager must settle it."""

    alignment = models.ForeignKey(Alignment, on_delete=models.CASCADE, related_name="conflicts")
    account = models.ForeignKey("customers.Account", on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=20, choices=TerritoryType.choices)
    territory_ids = models.JSONField(default=list)

    class Meta:
        ordering = ["alignment", "account"]
        constraints = [
            models.UniqueConstraint(fields=["alignment", "account", "type"],
                                    name="one_conflict_per_type"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.type} tie between {self.territory_ids}"


class BoundaryException(VersionedModel):
    """Permission for a rep to own or work an account outside their territories, until a
    date; needs a manager's approval."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                            related_name="boundary_exceptions")
    account = models.ForeignKey("customers.Account", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=500)
    until = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["rep", "account", "status"])]

    def __str__(self) -> str:
        return f"{self.rep} on {self.account_id} until {self.until} ({self.status})"


class Realignment(models.Model):
    """The record of an activation: which alignment replaced which, who did it, what
    moved and what happened to ownership."""

    class Ownership(models.TextChoices):
        STAY = "stay", "Owners stay until closed"
        MOVE = "move", "Ownership moves with the account"

    alignment = models.ForeignKey(Alignment, on_delete=models.CASCADE, related_name="+")
    previous = models.ForeignKey(Alignment, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    ownership = models.CharField(max_length=5, choices=Ownership.choices,
                                 default=Ownership.STAY)
    changed_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    accounts_moved = models.PositiveIntegerField(default=0)
    owners_changed = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.alignment_id} replaced {self.previous_id} at {self.changed_at}"


class GoalFormula(models.TextChoices):
    SHARE_OF_POTENTIAL = "share_of_potential", "Share of potential"
    PRIOR_BOOKINGS = "prior_bookings", "Prior-period bookings × growth"
    SALES_PER_DAY = "sales_per_day", "Sales per selling day × selling days"
    CAPACITY_CONVERSION = "capacity_conversion", "Capacity × conversion (sales per call)"
    WORKLOAD_DAYS = "workload_days", "Sales per rep selling day × workload days"
    WEIGHTED_MIX = "weighted_mix", "Weighted mix of formulas"
    MANUAL = "manual", "Set by hand"


class TerritoryGoal(TimeStampedModel):
    """The sales goal of a territory for a period; children add up to their parent."""

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="goals")
    period_start = models.DateField()
    period_end = models.DateField()
    formula = models.CharField(max_length=20, choices=GoalFormula.choices)
    explanation = models.CharField(max_length=500, blank=True)
    proposed = AmountField()
    amount = AmountField()
    currency = CurrencyField()
    override_reason = models.CharField(max_length=500, blank=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                               related_name="+")

    class Meta:
        ordering = ["territory", "period_start"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "period_start", "period_end"],
                                    name="one_goal_per_period"),
        ]

    def __str__(self) -> str:
        return f"{self.territory}: {self.currency} {self.amount}"


class OptimisationRun(TimeStampedModel):
    """One run of the territory optimiser: what the manager asked for, the draft it
    produced and how good the result provably is (per-territory balance, compactness,
    the optimality gap), kept so the result page stays readable after the job."""

    source = models.ForeignKey(Alignment, null=True, on_delete=models.SET_NULL,
                               related_name="+")
    draft = models.ForeignKey(Alignment, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    job = models.OneToOneField("core.BackgroundJob", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    options = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"optimisation {self.pk} of {self.source_id}"
