"""Sign-on: the provider's groups mapped to roles and teams, the link between a provider's
account and a Salesplan user, TOTP devices with their recovery codes, and the company's
sign-on policy."""

import hashlib

from django.conf import settings
from django.db import models

from salesplan.core.models import TimeStampedModel, VersionedModel
from salesplan.org.models import Role, Team


class GroupMapping(VersionedModel):
    """One group of the identity provider (the `groups` claim) and what membership gives:
    a role, a team, or both. An admin edits these; each OpenID login applies them."""

    group = models.CharField(max_length=200, unique=True,
                             help_text="The group name exactly as the provider sends it.")
    role = models.CharField(max_length=20, choices=Role.choices, blank=True,
                            help_text="Role given to members (empty: the role is left alone).")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+",
                             help_text="Team given to members (empty: the team is left alone).")

    class Meta:
        ordering = ["group", "id"]

    def __str__(self) -> str:
        return self.group


class ProviderAccount(TimeStampedModel):
    """Who a user is at the OpenID provider (issuer and subject); found first on each
    login, so a changed email address at the provider still reaches the same user."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="provider_accounts")
    issuer = models.CharField(max_length=300)
    subject = models.CharField(max_length=255)
    last_login_at = models.DateTimeField(null=True, blank=True)
    last_groups = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"],
                                               name="provider_account_once")]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"


class TotpDevice(TimeStampedModel):
    """A user's authenticator app: the shared secret and the last time step accepted, so
    a code is never accepted twice. Unconfirmed until the user types a first code."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="totp_device")
    secret = models.CharField(max_length=64)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_step = models.BigIntegerField(default=-1)

    def __str__(self) -> str:
        return f"TOTP of {self.user}"

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


class RecoveryCode(TimeStampedModel):
    """A single-use code for when the authenticator is lost; only its hash is kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "code_hash"])]

    def __str__(self) -> str:
        return f"recovery code of {self.user}"

    @staticmethod
    def hash_code(code: str) -> str:
        normal = "".join(ch for ch in code.lower() if ch.isalnum())
        return hashlib.sha256(normal.encode()).hexdigest()


class SignOnPolicy(VersionedModel):
    """The company's sign-on rules: whether admins must use two-factor authentication."""

    require_admin_two_factor = models.BooleanField(
        default=False, help_text="Admins without two-factor authentication are sent to set "
                                 "it up when they sign in with a password.")

    class Meta:
        verbose_name_plural = "sign-on policy"

    def __str__(self) -> str:
        return "Two-factor required for admins" if self.require_admin_two_factor else \
            "Two-factor optional"

    @classmethod
    def current(cls) -> "SignOnPolicy":
        policy = cls.objects.order_by("id").first()
        return policy if policy is not None else cls.objects.create()
