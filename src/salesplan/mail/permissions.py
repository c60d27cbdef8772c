"""Email in the permission registry.

Anyone who may see a record may send an email from it and read the emails logged on it
(the executive reads only). Templates are kept by admins, managers and marketing and read
by everyone who sends. A mailbox is its owner's (an admin keeps the shared BCC mailbox and
may see every one); unknown senders are triaged by the mailbox's owner, and those of the
shared mailbox by admins, managers and marketing.
"""

from salesplan.core.registry import (
    ADMIN,
    ALL,
    EXECUTIVE,
    MANAGER,
    MARKETING,
    OWN,
    REP,
    register,
    register_operations,
    register_scope,
)

ON_SEEN, TRIAGER = "on_seen_record", "triager"
WRITERS = (ADMIN, MANAGER, REP, MARKETING)
KEEPERS = (ADMIN, MANAGER, MARKETING)


def _on_seen_record(user, obj) -> bool:
    from .models import EmailMessage
    from .records import can_see

    if isinstance(obj, EmailMessage):
        return any(link is not None and can_see(user, link) for link in (
            obj.opportunity, obj.contact, obj.account, obj.lead))
    return can_see(user, obj)


def _triager(user, message) -> bool:
    mailbox = message.mailbox
    if mailbox is not None and mailbox.owner_id is not None:
        return mailbox.owner_id == user.pk
    return user.role in KEEPERS


register_scope("email", ON_SEEN, _on_seen_record)
register_scope("email_triage", TRIAGER, _triager)

register("email", "view", {r: ON_SEEN for r in (*WRITERS, EXECUTIVE)},
         doc="see the emails of this record")
register("email", "send", {r: ON_SEEN for r in WRITERS},
         doc="send email from this record")
register("email_template", "view", {r: ALL for r in (*WRITERS, EXECUTIVE)},
         doc="see email templates")
for action in ("create", "change", "delete"):
    register("email_template", action, {r: ALL for r in KEEPERS},
             doc=f"{action} email templates")
register("mailbox", "view", {ADMIN: ALL, MANAGER: OWN, REP: OWN, MARKETING: OWN},
         doc="see this mailbox")
for action in ("create", "change", "fetch"):
    register("mailbox", action, {ADMIN: ALL, MANAGER: OWN, REP: OWN, MARKETING: OWN},
             doc=f"{action} this mailbox")
register("email_triage", "view", {ADMIN: ALL, MANAGER: TRIAGER, REP: TRIAGER,
                                   MARKETING: TRIAGER}, doc="see this unknown sender")
register("email_triage", "resolve", {ADMIN: ALL, MANAGER: TRIAGER, REP: TRIAGER,
                                      MARKETING: TRIAGER},
         doc="link, turn into a lead or ignore this unknown sender")
register("signature", "change", {r: ALL for r in WRITERS}, personal=True,
         doc="set your email signature")

register_operations("""
GET    /mail/templates                          email_template.view
POST   /mail/templates                          email_template.create
PATCH  /mail/templates/{id}                     email_template.change
DELETE /mail/templates/{id}                     email_template.delete
POST   /mail/preview                            email.send
POST   /mail/send                               email.send
GET    /mail/messages                           email.view
GET    /mail/triage                             email_triage.view
POST   /mail/triage/{id}/link                   email_triage.resolve
POST   /mail/triage/{id}/lead                   email_triage.resolve
POST   /mail/triage/{id}/ignore                 email_triage.resolve
GET    /mail/mailboxes                          mailbox.view
POST   /mail/mailboxes                          mailbox.create
POST   /mail/mailboxes/{id}/fetch               mailbox.fetch
""")
