"""The role values stored on a user, named here so the kernel can refer to them.

`org.models.Role` gives each value its label for forms; the permission table in
`core.permissions` is keyed by these values without importing `org`.
"""

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    REP = "rep"
    MARKETING = "marketing"
    EXECUTIVE = "executive"
