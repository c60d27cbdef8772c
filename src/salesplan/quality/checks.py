"""The quality checks: what is wrong with the sales data and process.

Each check is a query over one kind of record (`find`); the user's visibility rule is
put on it by `Check.query`, so a rep sees the issues on records they may see and a
manager those of their teams, or by `Check.parts`, which splits what the user sees into
the part they own and the part their territories add, each read on its own index. Each
names its owner field, the order its list is paged in (an indexed column, so the first
page of a list answers fast at millions of rows), its weight in the data-quality score
and the fix offered next to each item.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection, models
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from salesplan.activities.models import Activity, ActivityKind
from salesplan.core.clock import company_date, company_datetime
from salesplan.customers.models import Account, Contact, Lead, LeadStatus
from salesplan.pipeline.models import Opportunity, OpportunityChange, Stage, StageKind
from salesplan.proposals.approvals import LEVEL_ORDER, active_rules
from salesplan.proposals.models import ApproverLevel, Quote, RuleMetric

from .models import QualitySettings, RecordType, RequiredField, Review

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OPEN_LEAD_STATUSES = (LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.NURTURING,
                      LeadStatus.QUALIFIED)


@dataclass(frozen=True)
class Context:
    """What the checks are measured against: the thresholds and the current time."""

    settings: QualitySettings
    now: datetime

    @property
    def today(self):
        return company_date(self.now)

    @property
    def start_of_today(self) -> datetime:
        return company_datetime(self.today, datetime.min.time())

    @classmethod
    def current(cls) -> "Context":
        return cls(settings=QualitySettings.current(), now=timezone.now())


@dataclass(frozen=True)
class Check:
    """One quality check. `query(user, ctx)` returns the flagged records the user sees."""

    key: str
    label: str
    description: str
    model: type[models.Model]
    record_type: str
    order: str  # the keyset order of its list ("close_date", "due_at", "created_at", …)
    weight: int
    fix: str  # the kind of fix offered next to each item
    # Every flagged record, before the user's visibility rule (the user only tunes the
    # query's shape for the database, see `by_owner_index`).
    find: Callable[[object, Context], QuerySet]
    # Opportunities: page per stage ("open" stages, or all "not_lost" ones) and merge, so
    # each page reads the (stage, close_date, id) index instead of every closed deal.
    stages: str | None = None
    # The path to the person who answers for a flagged record (a quote: its deal's owner).
    owner_field: str = "owner"
    # The same records phrased for walking the list order, used for a page when they are
    # many (see selectors.check_page); `find` serves counts and sparse lists.
    find_in_order: Callable[[object, Context], QuerySet] | None = None
    # Whether a page first probes for a few flagged records (see selectors.check_page); a
    # check whose test is a handful of whole-table lookups answers a page faster without.
    probe: bool = True

    def query(self, user, ctx: Context) -> QuerySet:
        """The flagged records the user sees, as one query."""
        return self.find(user, ctx).visible_to(user)  # type: ignore[attr-defined]

    def parts(self, user, ctx: Context, *, in_order: bool = False) -> list[QuerySet]:
        """The flagged records the user sees as disjoint queries (`visible_parts`): what
        they own, then what else is on their territories' accounts. One query with
        "owner OR territory account" makes PostgreSQL read every flagged record of the
        company (a rep's stale deals at 5M: 2.95 s); each part reads its own index.
        Read the parts after the first sorted, not walked (`sorted_not_walked`)."""
        find = self.find_in_order if in_order and self.find_in_order else self.find
        return find(user, ctx).visible_parts(user)  # type: ignore[attr-defined]

    def owned(self, user, ctx: Context) -> QuerySet:
        """The flagged records the user sees by ownership alone (a rep's own, a manager's
        teams'), with no territory rule: what counts per owner need."""
        parts = self.parts(user, ctx)
        return parts[0] if parts else self.model._default_manager.none()

    @property
    def resource(self) -> str:
        return self.record_type


# --- opportunities ---------------------------------------------------------------------


def _open_opportunities() -> QuerySet:
    # Naming the open stages lets the database read the (stage, close_date, id) index
    # rather than every closed deal in close-date order.
    return Opportunity.objects.filter(status=StageKind.OPEN, stage_id__in=stage_ids("open"))


def stale_opportunities(user, ctx: Context) -> QuerySet:
    cutoff = ctx.now - timedelta(days=ctx.settings.stale_after_days)
    recent = Activity.objects.filter(opportunity=OuterRef("pk"), due_at__gte=cutoff)
    return _open_opportunities().filter(created_at__lt=cutoff).exclude(Exists(recent))


def past_close_date(user, ctx: Context) -> QuerySet:
    return _open_opportunities().filter(close_date__lt=ctx.today)


def _last_review(key: str):
    """The latest review of the outer record under this check (or the epoch)."""
    latest = (Review.objects.filter(check_key=key, record_id=OuterRef("pk"))
              .order_by("-reviewed_at").values("reviewed_at")[:1])
    return Coalesce(Subquery(latest), Value(EPOCH), output_field=models.DateTimeField())


def close_date_pushed(user, ctx: Context) -> QuerySet:
    pushes = (OpportunityChange.objects
              .filter(opportunity=OuterRef("pk"), field=OpportunityChange.Field.CLOSE_DATE,
                      to_close_date__gt=F("from_close_date"),
                      changed_at__gt=OuterRef("reviewed_at"))
              .order_by().values("opportunity").annotate(n=Count("pk")).values("n"))
    return (_open_opportunities()
            .annotate(reviewed_at=_last_review("close_date_pushed"))
            .annotate(pushes=Subquery(pushes, output_field=models.IntegerField()))
            .filter(pushes__gte=ctx.settings.close_date_pushes))


def stage_jumps_q() -> Q:
    """A stage change that skipped a stage forward (closing lost may come from anywhere)
    or went back to an earlier stage; spelled out as the stage pairs that qualify, so the
    database tests two columns of the change instead of joining both stages."""

    stages = list(Stage.objects.values_list("pk", "pipeline_id", "position", "kind"))
    targets: dict[int, list[int]] = {}
    for from_id, pipeline_id, position, _kind in stages:
        targets[from_id] = [
            to_id for to_id, to_pipeline, to_position, to_kind in stages
            if to_pipeline == pipeline_id and (
                (to_position > position + 1 and to_kind != StageKind.LOST)
                or to_position < position)]
    q = Q(pk__in=[])
    for from_id, to_ids in targets.items():
        if to_ids:
            q |= Q(from_stage_id=from_id, to_stage_id__in=to_ids)
    return q


SYNC_MARGIN = 1000  # re-read this many ids back: ids may commit out of order
ANALYZE_AFTER_ROWS = 10_000


def sync_stage_jumps(ctx: Context) -> int:
    """Copy the stage jumps recorded since the last sync (the first sync reads the whole
    window); returns how many were added."""
    from .models import StageJump, SyncMark

    mark, _ = SyncMark.objects.get_or_create(name="stage_jumps")
    newest = (OpportunityChange.objects.order_by("-pk").values_list("pk", flat=True)
              .first()) or 0
    if newest <= mark.last_id:
        return 0
    changes = OpportunityChange.objects.filter(
        stage_jumps_q(), field=OpportunityChange.Field.STAGE,
        pk__gt=max(0, mark.last_id - SYNC_MARGIN), pk__lte=newest)
    if mark.last_id == 0:
        changes = changes.filter(
            changed_at__gte=ctx.now - timedelta(days=ctx.settings.stage_history_days))
    rows = [StageJump(opportunity_id=o, change_id=c, from_stage_id=f, to_stage_id=t,
                      changed_at=at)
            for c, o, f, t, at in changes.values_list(
                "pk", "opportunity_id", "from_stage_id", "to_stage_id", "changed_at")
            .iterator(chunk_size=5000)]
    StageJump.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    SyncMark.objects.filter(pk=mark.pk, last_id__lt=newest).update(last_id=newest)
    if len(rows) >= ANALYZE_AFTER_ROWS and connection.vendor == "postgresql":
        # Until its statistics are read, PostgreSQL takes a freshly filled table for a
        # small one and looks up every jump's deal for a rep's list (0.33 s at 5M deals
        # instead of 0.09 s); autovacuum would read them only a minute later.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {StageJump._meta.db_table}")
    return len(rows)


def stage_jumps(user, ctx: Context) -> QuerySet:
    """Deals with a skipped or reversed stage in the window, not reviewed since."""
    from .models import StageJump

    sync_stage_jumps(ctx)
    since = ctx.now - timedelta(days=ctx.settings.stage_history_days)
    recent = StageJump.objects.filter(changed_at__gte=since)
    latest_jump = (recent.filter(opportunity=OuterRef("pk")).order_by("-changed_at")
                   .values("changed_at")[:1])
    return (Opportunity.objects
            .filter(pk__in=recent.values("opportunity_id"))
            .annotate(reviewed_at=_last_review("stage_jump"),
                      jumped_at=Subquery(latest_jump))
            .filter(jumped_at__gt=F("reviewed_at")))


def no_next_step(user, ctx: Context) -> QuerySet:
    planned = Activity.objects.filter(opportunity=OuterRef("pk"), done=False,
                                      due_at__gte=ctx.now)
    return _open_opportunities().filter(next_step="").exclude(Exists(planned))


# --- activities and leads --------------------------------------------------------------


def by_owner_index(queryset: QuerySet, user) -> QuerySet:
    """For someone who sees every record, name every owner anyway: the same rows, but the
    database then reads the (owner, done/status, date) index instead of walking the
    whole history in date order."""
    if getattr(user, "visible_owner_ids", ()) is None:
        from salesplan.org.models import User

        return queryset.filter(owner_id__in=User.objects.values("pk"))
    return queryset


def overdue_activities(user, ctx: Context) -> QuerySet:
    return by_owner_index(overdue_in_date_order(user, ctx), user)


def overdue_in_date_order(user, ctx: Context) -> QuerySet:
    """Overdue activities without naming every owner: when they are many, the oldest
    open ones come soon walking the (due date, id) index, while naming every owner would
    have the database sort all of them for one page."""
    return Activity.objects.filter(
        done=False, due_at__lt=ctx.start_of_today).exclude(kind=ActivityKind.NOTE)


def lead_first_touch_hours(ctx: Context) -> tuple[int, str]:
    """The agreed first-touch time for new leads, in hours, and where it comes from: the
    marketing policy's service level where marketing has set one, else our setting."""
    from django.apps import apps

    try:
        policy_model = apps.get_model("marketing", "MarketingPolicy")
    except LookupError:
        policy_model = None
    if policy_model is not None:
        policy = policy_model._default_manager.order_by("id").first()
        if policy is not None and getattr(policy, "sla_hours", None):
            return int(policy.sla_hours), "marketing SLA"
    return ctx.settings.lead_first_touch_hours, "quality settings"


def leads_not_followed_up(user, ctx: Context) -> QuerySet:
    hours, _source = lead_first_touch_hours(ctx)
    touched = Activity.objects.filter(lead=OuterRef("pk"), done=True)
    return (Lead.objects
            .filter(status__in=(LeadStatus.NEW, LeadStatus.WORKING),
                    created_at__lt=ctx.now - timedelta(hours=hours))
            .exclude(Exists(touched)))


# --- quotes ----------------------------------------------------------------------------


def trips_q(rule) -> Q:
    """The quote lines that go past one rule of the approval matrix, as a filter: the
    same tests as the matrix's own evaluation (proposals.approvals), which lists the
    reasons on each flagged quote; a test holds the two to the same answers."""

    if rule.metric == RuleMetric.DISCOUNT:
        return Q(requested_discount_pct__gt=rule.threshold_pct)
    if rule.metric == RuleMetric.MARGIN:
        return Q(margin_pct__isnull=False, margin_pct__lt=rule.threshold_pct)
    return Q(below_floor=True) | Q(below_min_margin=True)


def approver_levels_from(level: str) -> list[str]:
    """The approver levels that cover an approval required at `level` (it or higher)."""

    least = LEVEL_ORDER[ApproverLevel(level)]
    return [other for other, rank in LEVEL_ORDER.items() if rank >= least]


def discounted_beyond_policy(user, ctx: Context) -> QuerySet:
    """Quotes whose current lines go past the approval matrix and that lack the approval:
    approved, sent or accepted without every required approval given (at the level the
    rule names, or higher); or over a limit and still a draft, or still waiting for an
    approval, after the agreed number of days."""
    from salesplan.proposals.models import (
        Approval,
        ApprovalStatus,
        Quote,
        QuoteLine,
        QuoteStatus,
    )

    rules = active_rules()
    if not rules:
        return Quote.objects.none()
    current = {"quote_version__quote": OuterRef("pk"),
               "quote_version__number": OuterRef("current_number")}
    lines = QuoteLine.objects.filter(**current)
    approved = Approval.objects.filter(status=ApprovalStatus.APPROVED, **current)
    # One test per approver level (its rules together), so the database reads each
    # table as few times as the matrix has levels.
    by_level: dict[str, Q] = {}
    for rule in rules:
        by_level[rule.approver] = by_level.get(rule.approver, Q(pk__in=[])) | trips_q(rule)
    any_rule = Q(pk__in=[])
    for trips in by_level.values():
        any_rule |= trips
    over_a_limit = Q(Exists(lines.filter(any_rule)))
    not_approved = Q(pk__in=[])
    for level, trips in by_level.items():
        not_approved |= Q(Exists(lines.filter(trips))) & ~Q(Exists(approved.filter(
            approver__in=approver_levels_from(level))))
    waited_since = ctx.now - timedelta(days=ctx.settings.quote_approval_wait_days)
    waiting = Exists(Approval.objects.filter(status=ApprovalStatus.PENDING,
                                             created_at__lt=waited_since, **current))
    return Quote.objects.filter(
        (Q(status__in=(QuoteStatus.APPROVED, QuoteStatus.SENT, QuoteStatus.ACCEPTED))
         & not_approved)
        | (Q(status=QuoteStatus.DRAFT, updated_at__lt=waited_since) & over_a_limit)
        | (Q(status=QuoteStatus.IN_APPROVAL) & Q(waiting)))


# --- required fields -------------------------------------------------------------------

# Fields a policy may require, per record type (the editable fields that can be empty).
REQUIRABLE: dict[str, tuple[str, ...]] = {
    RecordType.ACCOUNT: ("domain", "website", "industry", "employees", "annual_revenue",
                         "street", "city", "postal_code", "state", "county", "parent", "tier",
                         "potential"),
    RecordType.CONTACT: ("first_name", "title", "email", "phone", "mobile", "account",
                         "buying_role"),
    RecordType.LEAD: ("first_name", "title", "email", "phone", "company", "website",
                      "industry", "employees", "city", "state", "postal_code", "campaign"),
    RecordType.OPPORTUNITY: ("amount", "contact", "next_step"),
}
MODELS: dict[str, type[models.Model]] = {
    RecordType.ACCOUNT: Account, RecordType.CONTACT: Contact, RecordType.LEAD: Lead,
    RecordType.OPPORTUNITY: Opportunity,
}


def empty_q(model: type[models.Model], name: str) -> Q:
    """Q matching records where the field is empty (blank text, no link, no number,
    or a zero amount)."""
    field = model._meta.get_field(name)
    if field.is_relation:
        return Q(**{f"{name}__isnull": True})
    if isinstance(field, (models.CharField, models.TextField)):
        q = Q(**{name: ""})
        return q | Q(**{f"{name}__isnull": True}) if field.null else q
    if field.null:
        return Q(**{f"{name}__isnull": True})
    return Q(**{name: 0})


def is_empty(record: models.Model, name: str) -> bool:
    field = record._meta.get_field(name)
    value = getattr(record, getattr(field, "attname", name))
    return value in (None, "") or (not field.is_relation and not isinstance(
        field, (models.CharField, models.TextField)) and not field.null and value == 0)


def applicable_q(rule: RequiredField) -> Q:
    """Which records of the type a rule applies to."""
    if rule.record_type == RecordType.OPPORTUNITY:
        q = ~Q(status=StageKind.LOST)
        stage = rule.stage
        if stage is not None:
            from salesplan.pipeline.models import Stage

            q &= Q(stage_id__in=list(Stage.objects.filter(
                pipeline_id=stage.pipeline_id, position__gte=stage.position)
                .exclude(kind=StageKind.LOST).values_list("pk", flat=True)))
        return q
    if rule.record_type == RecordType.LEAD:
        return Q(status__in=OPEN_LEAD_STATUSES)
    return Q()


def rules_for(record_type: str) -> list[RequiredField]:
    return list(RequiredField.objects.filter(record_type=record_type).select_related("stage"))


def missing_fields_query(record_type: str) -> Callable[[object, Context], QuerySet]:
    def query(user, ctx: Context) -> QuerySet:
        model = MODELS[record_type]
        rules = rules_for(record_type)
        queryset = model._default_manager.all()
        if not rules:
            return queryset.none()
        violated = Q()
        for rule in rules:
            violated |= applicable_q(rule) & empty_q(model, rule.field)
        if record_type == RecordType.OPPORTUNITY:
            # The stages any rule covers, up front: the database then reads those stages
            # instead of combining an index per rule.
            queryset = queryset.filter(stage_id__in=stage_ids("policy"))
        return queryset.filter(violated)
    return query


def applies_to(rule: RequiredField, record: models.Model) -> bool:
    """`applicable_q` for one loaded record (no query)."""
    if rule.record_type == RecordType.OPPORTUNITY:
        if record.status == StageKind.LOST:  # type: ignore[attr-defined]
            return False
        required_from = rule.stage
        if required_from is not None:
            stage = record.stage  # type: ignore[attr-defined]
            return bool(stage.pipeline_id == required_from.pipeline_id
                        and stage.position >= required_from.position)
        return True
    if rule.record_type == RecordType.LEAD:
        return record.status in OPEN_LEAD_STATUSES  # type: ignore[attr-defined]
    return True


def missing_in(record: models.Model, record_type: str,
               rules: list[RequiredField] | None = None) -> list[str]:
    """The required fields this record leaves empty."""
    missing: list[str] = []
    for rule in rules if rules is not None else rules_for(record_type):
        if applies_to(rule, record) and is_empty(record, rule.field) \
                and rule.field not in missing:
            missing.append(rule.field)
    return missing


# --- the registry ----------------------------------------------------------------------

CHECKS: dict[str, Check] = {c.key: c for c in (
    Check("stale_opportunity", "No recent activity",
          "Open opportunities with no activity dated in the last N days and none planned.",
          Opportunity, RecordType.OPPORTUNITY, "close_date", 2, "plan_follow_up",
          stale_opportunities, stages="open"),
    Check("past_close_date", "Close date in the past",
          "Open opportunities whose expected close date has passed.",
          Opportunity, RecordType.OPPORTUNITY, "close_date", 3, "close_date", past_close_date,
          stages="open"),
    Check("close_date_pushed", "Close date pushed back repeatedly",
          "Open opportunities whose close date was moved later several times since the "
          "last review.", Opportunity, RecordType.OPPORTUNITY, "close_date", 2, "review",
          close_date_pushed, stages="open"),
    Check("stage_jump", "Skipped or reversed stages",
          "Opportunities that skipped a stage or went back a stage recently (since the last "
          "review).", Opportunity, RecordType.OPPORTUNITY, "close_date", 1, "review",
          stage_jumps),
    Check("no_next_step", "No next step",
          "Open opportunities with no next step written down and no activity planned.",
          Opportunity, RecordType.OPPORTUNITY, "close_date", 1, "next_step", no_next_step,
          stages="open"),
    Check("missing_opportunity_fields", "Opportunities missing required fields",
          "Opportunities that leave a field the policy requires empty.",
          Opportunity, RecordType.OPPORTUNITY, "close_date", 2, "required_field",
          missing_fields_query(RecordType.OPPORTUNITY), stages="policy"),
    Check("missing_account_fields", "Accounts missing required fields",
          "Accounts that leave a field the policy requires empty.",
          Account, RecordType.ACCOUNT, "name_key", 2, "required_field",
          missing_fields_query(RecordType.ACCOUNT)),
    Check("missing_contact_fields", "Contacts missing required fields",
          "Contacts that leave a field the policy requires empty.",
          Contact, RecordType.CONTACT, "name_key", 1, "required_field",
          missing_fields_query(RecordType.CONTACT)),
    Check("missing_lead_fields", "Leads missing required fields",
          "Open leads that leave a field the policy requires empty.",
          Lead, RecordType.LEAD, "name_key", 1, "required_field",
          missing_fields_query(RecordType.LEAD)),
    Check("overdue_activity", "Planned activities not done",
          "Calls, meetings, e-mails and tasks due before today and still open.",
          Activity, "activity", "due_at", 1, "activity", overdue_activities,
          find_in_order=overdue_in_date_order),
    Check("lead_not_followed_up", "Leads not followed up",
          "New or working leads with no activity done within the agreed first-touch time.",
          Lead, RecordType.LEAD, "created_at", 2, "log_activity", leads_not_followed_up),
    Check("discount_beyond_policy", "Quotes discounted beyond policy",
          "Quotes over a limit of the approval matrix without the approval: approved, sent "
          "or accepted without it, or still a draft or waiting for an approval after the "
          "agreed days.", Quote, "quote", "created_at", 3, "quote", discounted_beyond_policy,
          owner_field="opportunity__owner", probe=False),
)}

TERRITORY_CHECK = "territory_violation"


def stage_ids(which: str) -> list[int]:
    """Ids of the open stages ("open") or of the stages the opportunity policy covers
    ("policy"); late stages first."""

    stages = Stage.objects.exclude(kind=StageKind.LOST)
    if which == "open":
        stages = stages.filter(kind=StageKind.OPEN)
    else:
        covered = Q(pk__in=[])
        for rule in rules_for(RecordType.OPPORTUNITY):
            if rule.stage is None:
                covered = Q()
                break
            covered |= Q(pipeline_id=rule.stage.pipeline_id, position__gte=rule.stage.position)
        stages = stages.filter(covered)
    return list(stages.order_by("-position", "pk").values_list("pk", flat=True))


def get_check(key: str) -> Check | None:
    return CHECKS.get(key)


def flagged(check: Check, user, ctx: Context | None = None) -> QuerySet:
    """The records this check flags that the user may see."""
    return check.query(user, ctx or Context.current())
