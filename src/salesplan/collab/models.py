"""Comments on records (with @mentions) and the notifications people receive."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

from salesplan.core.models import VersionedModel


class Comment(VersionedModel):
    """A remark on a lead, account, opportunity or campaign, visible to whoever can see
    the record; people named as @username are told about it."""

    target_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    target_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("target_type", "target_id")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="comments")
    body = models.TextField(max_length=5000)
    edited_at = models.DateTimeField(null=True, blank=True)
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["target_type", "target_id", "created_at"])]

    def __str__(self) -> str:
        return f"{self.author}: {self.body[:40]}"


class Notification(models.Model):
    """Something a user should know about (a mention, an escalation), with where to go."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="notifications")
    text = models.CharField(max_length=500)
    url = models.CharField(max_length=500, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                           on_delete=models.SET_NULL, related_name="+")
    read = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read", "-created_at"]),
                   models.Index(fields=["recipient", "-id"])]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.text[:40]}"


class NotificationSettings(models.Model):
    """A user's choice to also receive mentions by email."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                primary_key=True, related_name="notification_settings")
    email_mentions = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.user}: email mentions {'on' if self.email_mentions else 'off'}"
