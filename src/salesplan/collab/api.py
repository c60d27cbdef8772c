"""API of comments and notifications (mounted at /api/v1/collab).

    GET/POST      /comments?target=lead&target_id=ID   a record's thread; comment on it
    PATCH/DELETE  /comments/{id}                      your own comment
    GET           /notifications                      yours, newest first (cursor pages)
    GET           /notifications/unread-count
    POST          /notifications/{id}/read, /notifications/read-all
"""

from datetime import datetime
from typing import Literal

from ninja import Field, Query, Router, Schema, Status

from salesplan.core.api_support import (
    InputSchema,
    PageParams,
    RecordId,
    Version,
    VersionParam,
    full_name,
)
from salesplan.core.listing import keyset_page

from . import selectors, services, targets

router = Router(tags=["collab"])

TargetName = Literal[tuple(targets.TARGETS)]


class CommentOut(Schema):
    id: int
    target: str
    target_id: int
    author_id: int
    author_name: str
    body: str
    mentions: list[str]
    created_at: datetime
    edited_at: datetime | None
    version: int

    @staticmethod
    def resolve_target(comment) -> str:
        return comment.target_type.model

    @staticmethod
    def resolve_author_name(comment) -> str:
        return full_name(comment.author)

    @staticmethod
    def resolve_mentions(comment) -> list[str]:
        return sorted(u.username for u in comment.mentions.all())


class ThreadParams(Schema):
    target: TargetName
    target_id: RecordId


class CommentIn(InputSchema):
    target: TargetName
    target_id: RecordId
    body: str = Field(..., max_length=services.MAX_BODY,
                      description="Text; @username mentions someone who can see the record.")


class CommentPatch(InputSchema):
    body: str = Field(..., max_length=services.MAX_BODY)
    version: Version


@router.get("/comments", response=list[CommentOut])
def list_comments(request, params: Query[ThreadParams]):
    """The thread on a record you may see, oldest first."""
    obj = targets.get_target(params.target, params.target_id, request.auth)
    return list(selectors.comments_on(obj).select_related("target_type")[:1000])


@router.post("/comments", response={201: CommentOut})
def create_comment(request, payload: CommentIn):
    """Comment on a record you may see; everyone @mentioned is notified."""
    obj = targets.get_target(payload.target, payload.target_id, request.auth)
    comment = services.post_comment(obj, by=request.auth, body=payload.body)
    return Status(201, comment)


@router.patch("/comments/{int:id}", response=CommentOut)
def update_comment(request, id: int, payload: CommentPatch):
    """Change your own comment (403 for anyone else's)."""
    comment = selectors.visible_comment(request.auth, id)
    return services.edit_comment(comment, by=request.auth, body=payload.body,
                                 expected_version=payload.version)


@router.delete("/comments/{int:id}", response={204: None})
def delete_comment(request, id: int, version: VersionParam):
    """Delete your own comment (admins may delete any)."""
    services.delete_comment(selectors.visible_comment(request.auth, id), by=request.auth,
                            expected_version=version)
    return Status(204, None)


class NotificationOut(Schema):
    id: int
    text: str
    url: str
    read: bool
    by_id: int | None
    created_at: datetime


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_cursor: str | None = None
    previous_cursor: str | None = None


class NotificationParams(PageParams):
    unread: bool = Field(False, description="Only unread notifications.")


@router.get("/notifications", response=NotificationPage)
def list_notifications(request, params: Query[NotificationParams]):
    """Your notifications, newest first."""
    found = selectors.notifications_for(request.auth)
    if params.unread:
        found = found.filter(read=False)
    page = keyset_page(found, sort_field="-id", sort_key="newest", cursor=params.cursor,
                       limit=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "previous_cursor": page.previous_cursor}


class UnreadOut(Schema):
    unread: int


@router.get("/notifications/unread-count", response=UnreadOut)
def unread_count(request):
    return {"unread": selectors.unread_count(request.auth)}


@router.post("/notifications/{int:id}/read", response=NotificationOut)
def mark_read(request, id: int):
    return services.mark_read(selectors.own_notification(request.auth, id), by=request.auth)


@router.post("/notifications/read-all", response=UnreadOut)
def mark_all_read(request):
    services.mark_all_read(by=request.auth)
    return {"unread": 0}
