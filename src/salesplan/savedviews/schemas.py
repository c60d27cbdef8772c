"""Saved views in the API."""

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

from salesplan.core.api_support import InputSchema, Version

from .models import LIST_KEYS


class SavedViewOut(Schema):
    id: int
    name: str
    list_key: str
    params: dict[str, str]
    shared: bool
    owner_id: int
    team_id: int | None
    created_at: datetime
    version: int


class SavedViewIn(InputSchema):
    name: str = Field(..., max_length=80)
    list_key: Literal[LIST_KEYS]
    params: dict[str, str] = Field(default_factory=dict, description=(
        "The list's query parameters: filters, `q`, `sort`, and `cols` (comma-separated "
        "column keys)."))
    shared: bool = False


class SavedViewPatch(InputSchema):
    name: str | None = Field(None, max_length=80)
    params: dict[str, str] | None = None
    shared: bool | None = None
    version: Version
