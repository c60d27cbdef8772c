"""Data quality in the permission registry. Everyone signed in reads the checks over the
records they see and fixes them through the records' own services; managers and admins
review flagged items, scan and merge duplicates and take the score snapshot; the
company-wide recount and the policy are an admin's."""

from salesplan.core.registry import (
    ADMIN,
    ALL,
    EXECUTIVE,
    MANAGER,
    MARKETING,
    REP,
    register,
    register_operations,
)

EVERYONE = {ADMIN: ALL, MANAGER: ALL, REP: ALL, MARKETING: ALL, EXECUTIVE: ALL}
REVIEWERS = {ADMIN: ALL, MANAGER: ALL}

register("quality_check", "view", EVERYONE, doc="see data quality")
register("quality_check", "fix", {ADMIN: ALL, MANAGER: ALL, REP: ALL, MARKETING: ALL},
         doc="fix flagged records")
register("quality_check", "review", REVIEWERS,
         doc="review flagged items (sales managers and admins only)")
register("quality_check", "recount", {ADMIN: ALL},
         doc="count every check again for the whole company")
register("quality_policy", "view", EVERYONE, doc="see the quality policy")
register("quality_policy", "change", {ADMIN: ALL},
         doc="change the quality policy and settings (admins only)")
register("duplicate", "view", {ADMIN: ALL, MANAGER: ALL, REP: ALL, MARKETING: ALL,
                               EXECUTIVE: ALL}, doc="see duplicates")
register("duplicate", "scan", REVIEWERS, doc="start a duplicate scan (managers and admins)")
register("duplicate", "resolve", {ADMIN: ALL, MANAGER: ALL, REP: ALL},
         doc="merge or dismiss duplicates")
register("quality_score", "view", EVERYONE, doc="see quality scores")
register("quality_score", "snapshot", REVIEWERS, doc="take today's quality scores")

register_operations("""
GET    /quality/checks                                quality_check.view
GET    /quality/checks/{key}                          quality_check.view
POST   /quality/checks/{key}/items/{record_id}/fix    quality_check.fix
GET    /quality/owners                                quality_check.view
GET    /quality/territory-violations                  quality_check.view
GET    /quality/policy                                quality_policy.view
POST   /quality/policy                                quality_policy.change
DELETE /quality/policy/{rule_id}                      quality_policy.change
GET    /quality/settings                              quality_policy.view
PATCH  /quality/settings                              quality_policy.change
GET    /quality/duplicates                            duplicate.view
POST   /quality/duplicates/scan                       duplicate.scan
GET    /quality/jobs/{job_id}                         duplicate.view
POST   /quality/duplicates/{pair_id}/dismiss          duplicate.resolve
POST   /quality/duplicates/{pair_id}/merge            duplicate.resolve
GET    /quality/scores                                quality_score.view
GET    /quality/scores/trend                          quality_score.view
POST   /quality/scores/snapshot                       quality_score.snapshot
""")
