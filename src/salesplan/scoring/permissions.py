"""Lead scoring in the permission registry: marketing users and admins configure rules
and train models; whoever sees a lead reads its score, and those who work leads (not
the read-only executive) score it again."""

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

EVERYONE = {ADMIN: ALL, MANAGER: ALL, REP: ALL, MARKETING: ALL, EXECUTIVE: ALL}
MARKETERS = {ADMIN: ALL, MARKETING: ALL}

register("scoring_rule", "view", EVERYONE, doc="see the scoring rules")
register("scoring_rule", "manage", MARKETERS,
         doc="change lead scoring (marketing users and admins only)")
register("lead_score", "view", {ADMIN: ALL, MANAGER: VISIBLE, REP: VISIBLE, MARKETING: VISIBLE,
                                EXECUTIVE: ALL}, doc="see this lead's score")
register("lead_score", "rescore", {ADMIN: ALL, MANAGER: VISIBLE, REP: VISIBLE,
                                   MARKETING: VISIBLE}, doc="score this lead again")

# The rules' operations are declared where scoring/api.py installs them (record kit).
register_operations("""
GET    /scoring/facts                      scoring_rule.view
GET    /scoring/leads                      lead_score.view
GET    /scoring/leads/{id}                 lead_score.view
POST   /scoring/leads/{id}/rescore         lead_score.rescore
POST   /scoring/rescore                    scoring_rule.manage
GET    /scoring/jobs/{job_id}              scoring_rule.view
POST   /scoring/models/train               scoring_rule.manage
GET    /scoring/models                     scoring_rule.view
GET    /scoring/models/current             scoring_rule.view
GET    /scoring/models/{id}                scoring_rule.view
""")
