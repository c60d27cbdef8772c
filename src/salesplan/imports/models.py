"""Uploaded import files and the column mappings people chose for them."""

import hashlib

from django.conf import settings
from django.db import models

from salesplan.core.models import TimeStampedModel

RESOURCE_CHOICES = [("account", "Accounts"), ("contact", "Contacts"), ("lead", "Leads"),
                    ("opportunity", "Opportunities")]


def header_key(headers: list[str]) -> str:
    """The same set of column names always gives the same key, whatever their order."""
    normalised = sorted({h.strip().lower() for h in headers if h and h.strip()})
    return hashlib.sha256("\x1f".join(normalised).encode()).hexdigest()[:40]


class ImportFile(TimeStampedModel):
    """A file someone uploaded to import; it stays until imported so the dry run and the
    commit read exactly the same rows."""

    resource = models.CharField(max_length=20, choices=RESOURCE_CHOICES)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                    related_name="import_files")
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=255)
    headers = models.JSONField(default=list)
    estimated_rows = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.resource})"


class ImportMapping(TimeStampedModel):
    """Which field each column fills, remembered per person, record type and set of
    column names, so next month's export from the same tool maps itself."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="import_mappings")
    resource = models.CharField(max_length=20, choices=RESOURCE_CHOICES)
    header_key = models.CharField(max_length=40)
    # {column name: field name}; columns mapped to nothing are left out.
    mapping = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "resource", "header_key"],
                                               name="import_mapping_once")]

    def __str__(self) -> str:
        return f"{self.user} {self.resource} mapping"
