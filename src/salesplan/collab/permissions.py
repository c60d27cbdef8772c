"""Comments and notifications in the permission registry.

Anyone who may see a record may read and add to its comment thread (the executive
reads only: the registry refuses them every change); an author edits and deletes their
own comments, an admin removes any. Notifications are each user's own: marking them
read is a personal action, open to the executive too.
"""

from salesplan.core.registry import (
    ADMIN,
    ALL,
    EXECUTIVE,
    MANAGER,
    MARKETING,
    REP,
    register,
    register_operations,
    register_scope,
)

ON_SEEN, AUTHOR, RECIPIENT = "on_seen_record", "author", "recipient"


def _on_seen_record(user, obj) -> bool:
    """obj is a comment (its record decides) or the record about to be commented on."""
    from .models import Comment
    from .targets import can_see

    target = obj.target if isinstance(obj, Comment) else obj
    return target is not None and can_see(user, target)


register_scope("comment", ON_SEEN, _on_seen_record)
register_scope("comment", AUTHOR, lambda user, comment: comment.author_id == user.pk)
register_scope("notification", RECIPIENT, lambda user, note: note.recipient_id == user.pk)

WRITERS = (ADMIN, MANAGER, REP, MARKETING)
register("comment", "view", {r: ON_SEEN for r in (*WRITERS, EXECUTIVE)},
         doc="see comments on this record")
register("comment", "create", {r: ON_SEEN for r in WRITERS},
         doc="comment on this record")
register("comment", "change", {r: AUTHOR for r in WRITERS}, doc="edit this comment (only your own)")
register("comment", "delete", {**{r: AUTHOR for r in WRITERS}, ADMIN: ALL},
         doc="delete this comment (only your own)")
register("notification", "view", {r: RECIPIENT for r in (*WRITERS, EXECUTIVE)}, personal=True)
register("notification", "mark_read", {r: RECIPIENT for r in (*WRITERS, EXECUTIVE)},
         personal=True, doc="mark this notification read (it is not yours)")

register_operations("""
GET    /collab/comments                         comment.view
POST   /collab/comments                         comment.create
PATCH  /collab/comments/{id}                    comment.change
DELETE /collab/comments/{id}                    comment.delete
GET    /collab/notifications                    notification.view
GET    /collab/notifications/unread-count       notification.view
POST   /collab/notifications/{id}/read          notification.mark_read
POST   /collab/notifications/read-all           notification.mark_read
""")
