"""Errors that services raise and every interface turns into a clear answer."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

__all__ = ["PermissionDenied", "ValidationError", "StaleVersion", "VersionRequired", "NotFound",
           "DuplicatesFound"]

STALE_MESSAGE = ("This record was changed by someone else since you opened it. Reload the "
                 "page to see their changes, then apply yours again; nothing was saved.")


class StaleVersion(Exception):
    """The record changed since the caller read it; nothing was written."""

    def __init__(self, current_version: int, given_version: int):
        self.current_version = current_version
        self.given_version = given_version
        super().__init__(
            f"The record was changed by someone else (now version {current_version}, "
            f"you sent version {given_version}). Reload it and apply your change again."
        )


class PreviewChanged(StaleVersion):
    """What a preview showed no longer holds (the records changed since it was drawn);
    nothing was written. The API answers 409 with the message."""

    def __init__(self, message: str):
        Exception.__init__(self, message)
        self.current_version = 0
        self.given_version = 0


class VersionRequired(Exception):
    """A change to an existing record came without the version the caller read, so a
    lost update could not be ruled out; nothing was written."""

    def __init__(self, field: str = "version"):
        self.field = field
        super().__init__(
            f"Send `{field}`: the version of the record you read (from its last answer). "
            "Without it a change could silently overwrite someone else's.")


class NotFound(Http404):
    """The record does not exist or the user may not see it (the two look the same).

    An Http404, so a page whose service refuses an invisible record answers 404 too.
    `model` and `pk`, when given, name the record asked for, so a refusal on a record
    that exists can be written to the security log."""

    def __init__(self, message: str = "", *, model: Any = None, pk: Any = None):
        super().__init__(message)
        self.model = model
        self.pk = pk


HIDDEN_MATCH_MESSAGE = "A record you cannot see matches."


class DuplicatesFound(ValidationError):
    """A new record looks like existing ones; nothing was written. `matches` lists those
    the user may see (each a dict: type, id, name, url-less reasons); `hidden` counts
    those they may not, which are never named. Send `allow_duplicate` with a
    `duplicate_reason` to create it anyway."""

    def __init__(self, record_type: str, matches: list[dict[str, Any]], hidden: int):
        self.record_type = record_type
        self.matches = matches
        self.hidden = hidden
        named = ", ".join(f"{m['name']} (#{m['id']})" for m in matches)
        parts = [f"Likely duplicate of {named}." if named else "",
                 HIDDEN_MATCH_MESSAGE if hidden else ""]
        super().__init__({"__all__": [
            " ".join(p for p in parts if p) + " Open the existing record, or create this one "
            "anyway and say why."]})
