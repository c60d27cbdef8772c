"""A saved view of a CRM list: its filters, search, sort and columns, under a name."""

from django.conf import settings
from django.db import models

from salesplan.core.models import VersionedModel

# The CRM lists a view can be saved for (their URL names).
LIST_KEYS = ("accounts", "contacts", "leads", "opportunities", "activities")


class SavedView(VersionedModel):
    """One user's saved list; `shared` shows it to everyone in the owner's team."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="saved_views")
    team = models.ForeignKey("org.Team", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", help_text="The team it is shared with.")
    list_key = models.CharField(max_length=20, choices=[(k, k) for k in LIST_KEYS])
    name = models.CharField(max_length=80)
    shared = models.BooleanField(default=False)
    # The list's query parameters: {"q": "pharma", "state": "CA", "sort": "-created",
    # "cols": "name,industry"} (string values only).
    params = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["owner", "list_key", "name"],
                                               name="saved_view_unique_name")]
        indexes = [models.Index(fields=["team", "list_key", "shared"])]

    def __str__(self) -> str:
        return self.name
