"""The sales organisation: the company's settings, its teams and its people."""

import hashlib
import secrets
from datetime import time
from functools import cached_property
from typing import ClassVar, Self

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from salesplan.core.models import TimeStampedModel, Versioned, VersionedModel
from salesplan.core.money import CurrencyField
from salesplan.core.request_memo import remembered
from salesplan.core.roles import Role as RoleValue

WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class Company(VersionedModel):
    """The one company this installation serves; its calendar drives capacity and plans."""

    name = models.CharField(max_length=200, default="My Company")
    logo = models.ImageField(upload_to="company/", blank=True)
    default_currency = CurrencyField()
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text="Month (1–12) in which the fiscal year starts.",
    )
    time_zone = models.CharField(max_length=64, default="UTC")
    # Weekday numbers, Monday = 0, e.g. "0,1,2,3,4".
    working_days = models.CharField(max_length=20, default="0,1,2,3,4")

    class Meta:
        verbose_name_plural = "company"

    def __str__(self) -> str:
        return self.name

    @classmethod
    def current(cls) -> "Company":
        """The company's settings row (read once per page: see core.request_memo)."""
        return remembered("company", cls._read_current)

    @classmethod
    def _read_current(cls) -> "Company":
        company = cls.objects.order_by("id").first()
        if company is None:
            company = cls.objects.create()
        return company

    @property
    def working_weekdays(self) -> list[int]:
        return sorted(int(d) for d in self.working_days.split(",") if d.strip() != "")


class Holiday(models.Model):
    """A company-wide non-working day."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["company", "date"], name="holiday_once_a_day")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class Team(VersionedModel):
    """A sales team; teams nest (region → district → team) and each has one manager."""

    name = models.CharField(max_length=120, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    manager = models.ForeignKey(
        "org.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_teams"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    # The values are the kernel's (core.roles), so core's permission table needs no org import.
    ADMIN = RoleValue.ADMIN.value, "Admin"
    MANAGER = RoleValue.MANAGER.value, "Sales manager"
    REP = RoleValue.REP.value, "Sales rep"
    MARKETING = RoleValue.MARKETING.value, "Marketing"
    EXECUTIVE = RoleValue.EXECUTIVE.value, "Executive (read-only)"


class User(Versioned, AbstractUser):
    """A person who logs in; belongs to one team, reports to one manager, has one role,
    and sells from a home base on working hours of their own (the selling profile)."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.REP)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports",
        help_text="The person this user reports to (by default their team's manager).")
    title = models.CharField(max_length=120, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    calendar_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    # The selling profile: where and when the person sells (visit planning reads it).
    time_zone = models.CharField(max_length=64, blank=True,
                                 help_text="Empty means the company's time zone.")
    work_starts = models.TimeField(default=time(8, 0))
    work_ends = models.TimeField(default=time(17, 0))
    # Weekday numbers, Monday = 0, e.g. "0,1,2,3,4".
    working_days = models.CharField(max_length=20, default="0,1,2,3,4")
    home_address = models.CharField(max_length=300, blank=True)
    home_latitude = models.DecimalField(
        max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)])
    home_longitude = models.DecimalField(
        max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)])
    deactivated_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[UserManager[Self]] = UserManager()

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        indexes = [models.Index(fields=["team", "role"])]

    def __str__(self) -> str:
        return self.display_name(self.first_name, self.last_name, self.username)

    @staticmethod
    def display_name(first_name: str, last_name: str, username: str) -> str:
        """How a person is named on every page: full name, else login name."""
        return f"{first_name} {last_name}".strip() or username

    @property
    def is_admin(self) -> bool:
        return self.is_superuser or self.role == Role.ADMIN

    @cached_property
    def visible_owner_ids(self) -> list[int] | None:
        """Ids of the users whose records this user sees by ownership; None means everyone."""
        from salesplan.org.selectors import visible_owner_ids

        return visible_owner_ids(self)

    @property
    def working_weekdays(self) -> list[int]:
        return sorted(int(d) for d in self.working_days.split(",") if d.strip() != "")


class AccessLink(models.Model):
    """A one-time link sent by email: an invitation to set a first password, or a
    password reset. Only the token's hash is stored; it expires, is used once, and an
    admin may revoke it (a revoked or used link opens nothing)."""

    class Purpose(models.TextChoices):
        INVITE = "invite", "Invitation"
        RESET = "reset", "Password reset"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_links")
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "purpose"])]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} for {self.user}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(TimeStampedModel):
    """A bearer token for API clients. Only a hash is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def new_key() -> str:
        return "sp_" + secrets.token_urlsafe(32)
