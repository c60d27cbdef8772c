"""API of the work inbox (mounted at /api/v1/inbox): only ever the caller's own items.

    GET   /inbox?kind=lead            what waits for you, newest first (cursor pages)
    GET   /inbox/count                open items, in all and by kind (the badge)
    POST  /inbox/{item_id}/dismiss    put an item away
    GET   /inbox/preferences          how you are told, per kind
    PATCH /inbox/preferences          change some kinds (with the version you read)
"""

from datetime import datetime
from typing import Literal

from ninja import Field, Query, Router, Schema

from salesplan.core.api_support import InputSchema, PageParams, RecordId, Version
from salesplan.core.listing import keyset_page

from . import selectors, services
from .models import Delivery, Kind

router = Router(tags=["inbox"])

KindName = Literal[tuple(Kind.values)]
DeliveryName = Literal[tuple(Delivery.values)]


class InboxEntryOut(Schema):
    id: int
    kind: str
    key: str = Field(..., description="The record it is about, e.g. approval:12 or lead:7.")
    title: str
    detail: str
    url: str
    due_at: datetime | None
    created_at: datetime
    closed_at: datetime | None
    closed_how: str
    notice: bool = Field(..., description="News to dismiss (else work that closes when done).")

    @staticmethod
    def resolve_notice(item) -> bool:
        return item.is_notice


class InboxEntryPage(Schema):
    items: list[InboxEntryOut]
    next_cursor: str | None = None
    previous_cursor: str | None = None


class InboxListParams(PageParams):
    kind: KindName | None = Field(None, description="Only items of this kind.")


class InboxCountOut(Schema):
    open: int
    by_kind: dict[str, int]


class InboxPreferencesOut(Schema):
    delivery: dict[str, str] = Field(..., description="Kind → app, email or digest.")
    version: int


class InboxPreferencesIn(InputSchema):
    delivery: dict[KindName, DeliveryName]
    version: Version


@router.get("", response=InboxEntryPage)
def list_items(request, params: Query[InboxListParams]):
    """Your open items, newest first."""
    page = keyset_page(selectors.open_items(request.auth, kind=params.kind), sort_field="-id",
                       sort_key="newest", cursor=params.cursor, limit=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "previous_cursor": page.previous_cursor}


@router.get("/count", response=InboxCountOut)
def count(request):
    by_kind = selectors.counts_by_kind(request.auth)
    return {"open": sum(by_kind.values()), "by_kind": by_kind}


@router.post("/{int:item_id}/dismiss", response=InboxEntryOut)
def dismiss(request, item_id: RecordId):
    """Put one of your items away (404 for anyone else's)."""
    return services.dismiss(selectors.own_item(request.auth, item_id), by=request.auth)


def _preferences(found) -> dict:
    return {"delivery": {k.value: found.delivery_of(k.value) for k in Kind},
            "version": found.version}


@router.get("/preferences", response=InboxPreferencesOut)
def get_preferences(request):
    return _preferences(services.settings_of(request.auth))


@router.patch("/preferences", response=InboxPreferencesOut)
def put_preferences(request, payload: InboxPreferencesIn):
    """Choose per kind: app (in the app only), email (at once) or digest (daily)."""
    found = services.set_delivery(by=request.auth, delivery=dict(payload.delivery),
                                  expected_version=payload.version)
    return _preferences(found)
