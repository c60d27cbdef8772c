"""Marketing in the permission registry.

Marketing users and admins manage campaigns, forms and the policy; managers and
executives read campaigns, attribution and feedback; reps read campaigns. The routing
queue is worked by marketing and admins over every waiting lead, and by a manager over
the waiting leads they may see (their teams' and territories'): a queued lead a manager
may not see is not shown, assigned or answered for. A lead's handoff moves with the
lead's "change" permission; only marketing re-qualifies a recycled lead.
"""

from salesplan.core.registry import (
    ADMIN,
    ALL,
    EXECUTIVE,
    MANAGER,
    MARKETING,
    REP,
    VISIBLE,
    register,
    register_operations,
)

MARKETERS = {ADMIN: ALL, MARKETING: ALL}
EVERYONE = {ADMIN: ALL, MANAGER: ALL, REP: ALL, MARKETING: ALL, EXECUTIVE: ALL}
QUEUE = {ADMIN: ALL, MARKETING: ALL, MANAGER: VISIBLE}

register("campaign", "view", EVERYONE, doc="see campaigns")
register("campaign", "manage", MARKETERS,
         doc="change campaigns and forms (marketing users and admins only)")
register("campaign_results", "view", {ADMIN: ALL, MARKETING: ALL, MANAGER: ALL, EXECUTIVE: ALL},
         doc="see campaign results (marketing, managers, executives and admins)")
register("lead_queue", "view", QUEUE, doc="see the routing queue")
register("lead_queue", "assign", QUEUE, doc="assign queued leads")
register("lead_queue", "route", {ADMIN: ALL, MARKETING: ALL, MANAGER: ALL},
         doc="route waiting leads")
register("lead_handoff", "view", {ADMIN: ALL, MANAGER: VISIBLE, REP: VISIBLE, MARKETING: ALL,
                                  EXECUTIVE: ALL}, doc="see this lead's handoff")
# Sales moves a lead through the funnel (whoever may change the lead); marketing only
# sends a recycled lead back.
register("lead_handoff", "move", {ADMIN: ALL, MANAGER: VISIBLE, REP: VISIBLE},
         doc="move this lead's handoff")
register("lead_handoff", "requalify", MARKETERS, doc="send a recycled lead back to sales")
# How many open leads routing gives a rep: read by whoever plans the routing, set by the
# rep's manager (for the people of their teams, checked in the service) or an admin.
register("rep_capacity", "view", {ADMIN: ALL, MANAGER: ALL, MARKETING: ALL, EXECUTIVE: ALL},
         doc="see reps' lead capacity")
register("rep_capacity", "change", {ADMIN: ALL, MANAGER: ALL},
         doc="set a rep's lead capacity (managers: their teams' reps)")

register_operations("""
GET    /marketing/campaigns/{id}/members       campaign.view
POST   /marketing/campaigns/{id}/members       campaign.manage
GET    /marketing/attribution                  campaign_results.view
POST   /marketing/attribution/refresh          campaign.manage
POST   /marketing/capture/{form_key}           -   # the public form: anyone may submit
GET    /marketing/queue                        lead_queue.view
POST   /marketing/queue/route                  lead_queue.route
POST   /marketing/queue/{lead_id}/assign       lead_queue.assign
GET    /marketing/leads/{id}/handoff           lead_handoff.view
POST   /marketing/leads/{id}/accept            lead_handoff.move
POST   /marketing/leads/{id}/qualify           lead_handoff.move
POST   /marketing/leads/{id}/convert           lead_handoff.move
POST   /marketing/leads/{id}/recycle           lead_handoff.move
POST   /marketing/leads/{id}/disqualify        lead_handoff.move
POST   /marketing/leads/{id}/requalify         lead_handoff.requalify
GET    /marketing/sla                          lead.view
GET    /marketing/feedback                     campaign_results.view
GET    /marketing/policy                       campaign.view
PUT    /marketing/policy                       campaign.manage
GET    /marketing/capacity                     rep_capacity.view
PUT    /marketing/capacity/{user_id}           rep_capacity.change
""")
