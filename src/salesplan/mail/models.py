"""Email with customers: templates, the messages sent and received, the mailboxes read,
the senders waiting for triage and the bounces recorded on contacts."""

from django.conf import settings
from django.db import models

from salesplan.core.models import TimeStampedModel, VersionedModel


class EmailTemplate(VersionedModel):
    """A reusable email with merge fields (`{{ contact.first_name }}`, `{{ deal.amount }}`),
    kept by admins, managers and marketing; each change raises its version, and every
    message sent from it records the version it was written from."""

    name = models.CharField(max_length=120, unique=True)
    subject = models.CharField(max_length=250)
    body = models.TextField()
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class EmailTemplateRevision(models.Model):
    """The text of one version of a template, kept when it is written, so a message sent
    from version 3 can be traced to the words it was written from."""

    template = models.ForeignKey(EmailTemplate, on_delete=models.CASCADE,
                                 related_name="revisions")
    version = models.PositiveIntegerField()
    subject = models.CharField(max_length=250)
    body = models.TextField()
    saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    saved_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["template", "-version"]
        constraints = [models.UniqueConstraint(fields=["template", "version"],
                                               name="mail_one_revision_per_version")]

    def __str__(self) -> str:
        return f"{self.template_id} v{self.version}"


class Signature(VersionedModel):
    """The sign-off a user's emails end with (`{{ sender.signature }}`)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="email_signature")
    text = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"Signature of {self.user}"


class Mailbox(VersionedModel):
    """An IMAP mailbox Salesplan reads: a user's own (their replies land on their records)
    or the company's shared BCC address (owner empty). Reading resumes after the last
    UID seen; a new UIDVALIDITY starts over (Message-IDs keep that from logging twice)."""

    name = models.CharField(max_length=120)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.CASCADE, related_name="mailboxes",
                              help_text="Empty for the shared BCC mailbox.")
    host = models.CharField(max_length=200)
    port = models.PositiveIntegerField(default=993)
    use_ssl = models.BooleanField(default=True)
    username = models.CharField(max_length=200)
    password = models.CharField(max_length=200)
    folder = models.CharField(max_length=200, default="INBOX")
    active = models.BooleanField(default=True)
    uid_validity = models.BigIntegerField(null=True, blank=True, editable=False)
    last_uid = models.BigIntegerField(default=0, editable=False)
    last_fetched_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.CharField(max_length=500, blank=True, editable=False)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "mailboxes"

    def __str__(self) -> str:
        return self.name


class Direction(models.TextChoices):
    OUTBOUND = "out", "Sent"
    INBOUND = "in", "Received"


class Triage(models.TextChoices):
    LOGGED = "logged", "Logged on records"
    WAITING = "waiting", "Unknown sender, waiting for triage"
    IGNORED = "ignored", "Ignored"
    BOUNCE = "bounce", "Bounce"


class EmailMessage(TimeStampedModel):
    """One email sent from Salesplan or read from a mailbox, with the Message-ID that
    threads replies to it and the timeline entry (an email activity) it was logged as."""

    direction = models.CharField(max_length=3, choices=Direction.choices)
    message_id = models.CharField(max_length=500, db_index=True)
    in_reply_to = models.CharField(max_length=500, blank=True)
    references = models.TextField(blank=True)
    from_address = models.CharField(max_length=254, db_index=True)
    from_name = models.CharField(max_length=200, blank=True)
    to_addresses = models.TextField(blank=True, help_text="Comma-separated.")
    subject = models.CharField(max_length=500, blank=True)
    body = models.TextField(blank=True)
    at = models.DateTimeField(db_index=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    template = models.ForeignKey(EmailTemplate, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="messages")
    template_version = models.PositiveIntegerField(null=True, blank=True)
    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="messages")
    uid_validity = models.BigIntegerField(null=True, blank=True)
    uid = models.BigIntegerField(null=True, blank=True)
    triage = models.CharField(max_length=10, choices=Triage.choices, default=Triage.LOGGED)
    activity = models.ForeignKey("activities.Activity", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="emails")
    # What the message is about (copied from the activity; kept for threading replies
    # even if the activity is deleted).
    contact = models.ForeignKey("customers.Contact", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    account = models.ForeignKey("customers.Account", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    opportunity = models.ForeignKey("pipeline.Opportunity", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    lead = models.ForeignKey("customers.Lead", null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "uid_validity", "uid"],
                                    name="mail_one_row_per_imap_uid"),
        ]
        indexes = [models.Index(fields=["triage", "at", "id"])]

    def __str__(self) -> str:
        return self.subject or self.message_id


class Bounce(models.Model):
    """A delivery failure reported for an address (a DSN or a mailer-daemon notice),
    shown on the contact it belongs to."""

    contact = models.ForeignKey("customers.Contact", null=True, blank=True,
                                on_delete=models.CASCADE, related_name="email_bounces")
    address = models.CharField(max_length=254, db_index=True)
    at = models.DateTimeField()
    reason = models.CharField(max_length=500, blank=True)
    message = models.OneToOneField(EmailMessage, on_delete=models.CASCADE,
                                   related_name="bounce")

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.address} bounced"
