"""The inbox in the permission registry.

Each user's inbox is their own: they read it, dismiss its notices and choose how they
are told. Nobody — not an admin — reads another user's inbox through it; every action is
personal, so the read-only executive has an inbox too.
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

OWN = "own_item"
EVERYONE = (ADMIN, MANAGER, REP, MARKETING, EXECUTIVE)

register_scope("inbox_item", OWN, lambda user, item: item.user_id == user.pk)

register("inbox_item", "view", {r: OWN for r in EVERYONE}, personal=True,
         doc="see this inbox item (it is another user's)")
register("inbox_item", "dismiss", {r: OWN for r in EVERYONE}, personal=True,
         doc="dismiss this inbox item (it is another user's)")
register("inbox_settings", "change", {r: ALL for r in EVERYONE}, personal=True,
         doc="choose how you are told about your inbox")

register_operations("""
GET    /inbox                        inbox_item.view
GET    /inbox/count                  inbox_item.view
POST   /inbox/{item_id}/dismiss      inbox_item.dismiss
GET    /inbox/preferences            inbox_item.view
PATCH  /inbox/preferences            inbox_settings.change
""")
