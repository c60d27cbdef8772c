"""Quotes in the permission registry.

A quote is seen by whoever sees its opportunity and changed by whoever may change the
opportunity ("deal"). An approval step is addressed to one person ("addressee"): the
quote owner's manager, the manager above for a director's step; only they sign it, or an
admin acting for them (recorded as such); a step past the chain, or an admin's step, is
an admin's. No one approves their own quote, except an admin.
The approval matrix and the proposal template are an admin's.
"""

from salesplan.core.registry import (
    ADMIN,
    ALL,
    EXECUTIVE,
    MANAGER,
    MARKETING,
    REP,
    VISIBLE,
    allowed,
    register,
    register_operations,
    register_scope,
)

DEAL, ADDRESSEE = "deal", "addressee"


def _deal(user, quote) -> bool:
    return allowed(user, "opportunity", "change", quote.opportunity)


def _addressee(user, approval) -> bool:
    """The step is addressed to this person (and the quote is not their own)."""
    quote = approval.quote_version.quote
    if quote.owner_id == user.pk or quote.opportunity.owner_id == user.pk:
        return False
    return approval.assignee_id is not None and approval.assignee_id == user.pk


def _of_visible_quote(user, approval) -> bool:
    from .models import Quote

    return Quote.objects.visible_to(user).filter(pk=approval.quote_version.quote_id).exists()


register_scope("quote", DEAL, _deal)
register_scope("quote_approval", VISIBLE, _of_visible_quote)
register_scope("quote_approval", ADDRESSEE, _addressee)

register("quote", "view", {ADMIN: ALL, MANAGER: VISIBLE, REP: VISIBLE, MARKETING: VISIBLE,
                           EXECUTIVE: ALL}, doc="see this quote")
register("quote", "create", {ADMIN: ALL, MANAGER: ALL, REP: ALL}, doc="create quotes")
register("quote", "change", {ADMIN: ALL, MANAGER: DEAL, REP: DEAL}, doc="change this quote")
register("quote_approval", "view", {ADMIN: ALL, MANAGER: VISIBLE, REP: VISIBLE,
                                    MARKETING: VISIBLE, EXECUTIVE: ALL},
         doc="see this quote's approvals")
register("quote_approval", "decide", {ADMIN: ALL, MANAGER: ADDRESSEE, REP: ADDRESSEE},
         doc="decide this approval step (it is addressed to another person)")
register("quote_settings", "view", {ADMIN: ALL, MANAGER: ALL, REP: ALL, MARKETING: ALL,
                                    EXECUTIVE: ALL}, doc="see the approval matrix")
register("quote_settings", "change", {ADMIN: ALL},
         doc="change the approval matrix and the proposal template (administrators only)")

# The approval matrix's operations are declared where proposals/api.py installs it
# with the record kit.
register_operations("""
GET    /quotes/approvals/inbox                              quote.view
GET    /quotes/proposal-template                            quote_settings.view
PUT    /quotes/proposal-template                            quote_settings.change
GET    /quotes                                              quote.view
POST   /quotes                                              quote.create
GET    /quotes/{quote_id}                                   quote.view
PATCH  /quotes/{quote_id}                                   quote.change
DELETE /quotes/{quote_id}                                   quote.change
GET    /quotes/{quote_id}/audit                             quote.view
GET    /quotes/{quote_id}/lines                             quote.view
POST   /quotes/{quote_id}/lines                             quote.change
PATCH  /quotes/{quote_id}/lines/{line_id}                   quote.change
DELETE /quotes/{quote_id}/lines/{line_id}                   quote.change
GET    /quotes/{quote_id}/versions                          quote.view
POST   /quotes/{quote_id}/versions                          quote.change
GET    /quotes/{quote_id}/versions/{number}                 quote.view
POST   /quotes/{quote_id}/submit                            quote.change
POST   /quotes/{quote_id}/send                              quote.change
POST   /quotes/{quote_id}/accept                            quote.change
POST   /quotes/{quote_id}/reject                            quote.change
GET    /quotes/{quote_id}/approvals                         quote_approval.view
POST   /quotes/{quote_id}/approvals/{approval_id}/approve   quote_approval.decide
POST   /quotes/{quote_id}/approvals/{approval_id}/reject    quote_approval.decide
GET    /quotes/{quote_id}/pdf                               quote.view
""")
