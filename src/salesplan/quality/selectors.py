"""Reads for quality control, each restricted to what the user may see: counts per check
and owner, one check's items (paged), the territory violations, likely duplicates, the
scores and their trend, and the card for the role dashboards."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings as django_settings
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from salesplan.core.clock import company_today, in_company_time
from salesplan.core.listing import (
    Page,
    capped_count,
    keyset_page,
    make_cursor,
    merged_keyset_page,
    read_cursor,
    sorted_not_walked,
)
from salesplan.core.registry import allowed
from salesplan.org.models import Role, User
from salesplan.org.selectors import managed_team_ids
from salesplan.pipeline.models import Opportunity
from salesplan.pipeline.selectors import STALL_FACTOR, stage_norms, stalled_in_stage
from salesplan.proposals.approvals import active_rules, required_approvals
from salesplan.proposals.models import Approval, ApprovalStatus, QuoteLine
from salesplan.territories.selectors import territories_by_id, violations

from . import checks as qc
from .counting import latest_counts
from .models import (
    DuplicateCandidate,
    DuplicateStatus,
    RecordType,
    ScoreSnapshot,
)

COUNT_CAP = 1000
CARD_SECONDS = 120
PROBE = 1000  # up to this many flagged records, a list is read by id (see check_page)
SELECT_RELATED = {
    "opportunity": ("owner", "account", "stage"),
    # The owner comes in a second query: joining it lets SQLite start from the users and
    # sort every overdue activity for one page, instead of walking the due-date index.
    "activity": ("account", "opportunity", "lead"),
    "lead": ("owner",),
    "account": ("owner",),
    "contact": ("owner", "account"),
    "quote": ("opportunity__owner", "opportunity__account"),
}
PREFETCH = {"activity": ("owner",)}


def with_related(queryset, record_type: str):
    """The records of a list with what its rows show, in a fixed number of queries."""
    return queryset.select_related(*SELECT_RELATED[record_type]).prefetch_related(
        *PREFETCH.get(record_type, ()))


def can_view(user) -> bool:
    return allowed(user, "quality_check", "view")


def can_review(user) -> bool:
    """Managers and admins accept flagged process items after looking at them."""
    return allowed(user, "quality_check", "review")


@dataclass
class CheckCount:
    check: qc.Check
    count: int
    capped: bool
    counted_at: datetime | None = None  # set when the figure is a stored count, not live


def sees_everything(user) -> bool:
    """Admins and executives: their overview is the whole company's."""
    return bool(user.visible_owner_ids is None
                and (user.is_admin or user.role == Role.EXECUTIVE))


def check_counts(user, ctx: qc.Context | None = None) -> list[CheckCount]:
    """How many flagged records each check finds among those the user sees. Someone who
    sees every record gets the exact counts of the latest stored run (see counting), with
    its time; everyone else, and any check the run did not count, is counted live up to
    COUNT_CAP, so the overview answers fast at any size."""
    ctx = ctx or qc.Context.current()
    stored = latest_counts() if sees_everything(user) else None
    found = []
    for check in qc.CHECKS.values():
        if stored is not None and check.key in stored.checks:
            found.append(CheckCount(check, stored.totals.get(check.key, 0), False,
                                    stored.counted_at))
            continue
        found.append(CheckCount(check, *count_in_parts(check.parts(user, ctx), COUNT_CAP)))
    return found


def count_in_parts(parts: list, cap: int) -> tuple[int, bool]:
    """`capped_count` of the union of the parts of `Check.parts`; (count, capped).
    Reads up to cap + 1 ids of each."""
    if len(parts) == 1:
        return capped_count(parts[0], cap)
    return min(len(ids := _ids_of(parts, cap)), cap), len(ids) > cap


def _ids_of(parts: list, cap: int, *, first_owned: bool = True) -> set[int]:
    """Ids of up to cap + 1 records of each part, until more than cap are found. The
    parts after the first (territory parts) are read in an order no index gives, so the
    database finds their rows from the territory's accounts instead of walking a
    company-wide table until it has enough (see `sorted_not_walked`)."""
    ids: set[int] = set()
    for i, part in enumerate(parts):
        walked = i == 0 and first_owned
        ordered = part.order_by() if walked else part.order_by(sorted_not_walked("pk"))
        ids.update(ordered.values_list("pk", flat=True)[:cap + 1])
        if len(ids) > cap:
            break
    return ids


def counted_at(counts: list[CheckCount]) -> datetime | None:
    """When the stored figures among these counts were counted (None: all live)."""
    return next((c.counted_at for c in counts if c.counted_at is not None), None)


def counts_by_owner(user, ctx: qc.Context | None = None) -> tuple[list[dict], list[str]]:
    """Rows {owner, counts: {check key: n}, total} for the owners whose records the user
    sees by ownership (a rep: themself; a manager: their teams). Users who see everyone
    get the latest score snapshot's figures instead (see `latest_owner_issues`)."""
    ctx = ctx or qc.Context.current()
    owner_ids = user.visible_owner_ids
    if owner_ids is None:
        stored = latest_counts()
        if stored is not None:
            when = in_company_time(stored.counted_at)
            return _owner_rows(stored.by_owner), [f"Counted at {when:%d %b %Y %H:%M}."]
        return latest_owner_issues()
    return _owner_rows(owned_table(user, ctx, owner_ids)), []


def owned_table(user, ctx: qc.Context, owner_ids: list[int]) -> dict[int, Counter]:
    """Flagged records per owner and check, among those the user sees by ownership."""
    table: dict[int, Counter] = defaultdict(Counter)
    for check in qc.CHECKS.values():
        owner = check.owner_field
        # Only owners the user sees by ownership are rows, so the territory rule (and
        # the OR it would cost the database) has nothing to add.
        rows = (check.owned(user, ctx).filter(**{f"{owner}__in": owner_ids}).order_by()
                .values(owner).annotate(n=Count("pk")).values_list(owner, "n"))
        for owner_id, n in rows:
            table[owner_id][check.key] += n
    return table


def overview_counts(user, ctx: qc.Context | None = None
                    ) -> tuple[list[CheckCount], list[dict], list[str]]:
    """`check_counts` and `counts_by_owner` together, as the overview shows them. For
    someone whose territories widen what they see, a check's count is their owned
    records (the table's figures, counted once) plus the territory part, instead of
    counting the owned records twice."""
    ctx = ctx or qc.Context.current()
    owner_ids = user.visible_owner_ids
    if owner_ids is None:
        return check_counts(user, ctx), *counts_by_owner(user, ctx)
    table = owned_table(user, ctx, owner_ids)
    counts = [CheckCount(check, *_count_with_owned(check, user, ctx, table))
              for check in qc.CHECKS.values()]
    return counts, _owner_rows(table), []


def _count_with_owned(check: qc.Check, user, ctx: qc.Context,
                      table: dict[int, Counter]) -> tuple[int, bool]:
    parts = check.parts(user, ctx)
    if len(parts) != 2:  # no territory part: the parts are not "owned, then territory"
        return count_in_parts(parts, COUNT_CAP)
    owned = sum(row[check.key] for row in table.values())
    if owned > COUNT_CAP:
        return COUNT_CAP, True
    total = owned + len(_ids_of(parts[1:], COUNT_CAP - owned, first_owned=False))
    return min(total, COUNT_CAP), total > COUNT_CAP


def latest_owner_issues() -> tuple[list[dict], list[str]]:
    latest = ScoreSnapshot.objects.filter(user__isnull=False).order_by("-taken_on").first()
    if latest is None:
        return [], ["No score snapshot has been taken yet."]
    table: dict[int, Counter] = {
        snap.user_id: Counter(snap.issues)
        for snap in ScoreSnapshot.objects.filter(taken_on=latest.taken_on, user__isnull=False)
        if snap.user_id is not None}
    return _owner_rows(table), [f"Figures from the snapshot of {latest.taken_on:%d %b %Y}."]


def _owner_rows(table: dict[int, Counter]) -> list[dict]:
    users = User.objects.in_bulk(list(table))
    rows = [{"owner": users.get(owner_id), "owner_id": owner_id, "counts": dict(counts),
             "total": sum(counts.values())} for owner_id, counts in table.items()
            if sum(counts.values())]
    return sorted(rows, key=lambda r: (-r["total"], str(r["owner"])))


# --- one check's items -------------------------------------------------------------------


@dataclass
class Item:
    """One flagged record as a list shows it: what it is, whose it is, what is wrong."""

    record_id: int
    name: str
    url: str
    edit_url: str
    owner: User | None
    detail: str
    record: object = None
    missing: list[str] = field(default_factory=list)
    version: int = 0


def check_page(user, check: qc.Check, *, cursor: str | None = None, owner_id: int | None = None,
               limit: int | None = None, ctx: qc.Context | None = None) -> tuple[Page, list[Item]]:
    ctx = ctx or qc.Context.current()

    def parts(in_order: bool = False) -> list:
        found = [with_related(part, check.record_type)
                 for part in check.parts(user, ctx, in_order=in_order)]
        if owner_id is not None:
            found = [part.filter(**{check.owner_field: owner_id}) for part in found]
        return found

    limit = limit or django_settings.LIST_PAGE_SIZE
    if check.stages:
        # Opportunities: stage by stage, late stages (which close soonest) first.
        page = page_per_stage(parts(), qc.stage_ids(check.stages), order=check.order,
                              cursor=cursor, limit=limit)
        return page, describe(check, page.items, ctx)
    probe = _probe(parts()) if check.probe else []
    if check.probe and len(probe) <= PROBE:
        # Few flagged records: one plain pass found them all, faster than walking the
        # list order past every record that is fine; page through them by id.
        # The ids are the user's to see already; the check's own query keeps what it
        # annotates for the list.
        found = with_related(check.find(user, ctx).filter(pk__in=probe), check.record_type)
        page = keyset_page(found, sort_field=check.order, sort_key=check.order, cursor=cursor,
                           limit=limit)
    else:
        page = merged_keyset_page(parts(in_order=True), sort_field=check.order,
                                  sort_key=check.order, cursor=cursor, limit=limit)
    return page, describe(check, page.items, ctx)


def _probe(parts: list) -> list[int]:
    """Ids of up to PROBE + 1 flagged records, read in no particular order."""
    return sorted(_ids_of(parts, PROBE))


def page_per_stage(querysets: list, stages: list[int], *, order: str, cursor: str | None,
                   limit: int) -> Page:
    """One forward page of opportunities in `order` then id, merged from the parts of
    `Check.parts`: the first (what the user owns) read stage by stage, each from an
    (…, stage, order, id) index; the others (territory parts) read once over every
    stage and sorted, since a walk along a company-wide index per stage would read
    their territory's records again for each stage. Pages go forward only: an open deal
    list is worked from the top."""

    if cursor:
        read_cursor(cursor)  # a bad cursor is refused the same way as on other lists
        if read_cursor(cursor)[2]:
            cursor = None  # a backwards cursor from elsewhere: start again
    rows: list = []
    more = False

    def add(part_rows, from_index: bool) -> None:
        nonlocal more
        if len(rows) > limit:
            # Once limit + 1 rows are in hand, a part can only contribute rows up to the
            # (limit + 1)-th value: a sparse stage is not read to its end.
            rows.sort(key=lambda r: (getattr(r, order), r.pk))
            del rows[limit + 1:]
            part_rows = part_rows.filter(**{f"{order}__lte": getattr(rows[-1], order)})
        part = keyset_page(part_rows, sort_field=order, sort_key=order, cursor=cursor,
                           limit=limit, from_index=from_index)
        rows.extend(part.items)  # the parts are disjoint (`Check.parts`)
        more = more or part.next_cursor is not None

    owned, *territory_parts = querysets or [None]
    if owned is not None:
        for stage_id in stages:
            add(owned.filter(stage_id=stage_id), from_index=True)
    for part_rows in territory_parts:
        add(part_rows.filter(stage_id__in=stages), from_index=False)
    rows.sort(key=lambda r: (getattr(r, order), r.pk))
    more = more or len(rows) > limit
    rows = rows[:limit]
    next_cursor = make_cursor(getattr(rows[-1], order), rows[-1].pk) if rows and more else None
    return Page(items=rows, next_cursor=next_cursor, previous_cursor=None, sort=order)


def _urls(record_type: str, pk: int) -> tuple[str, str]:
    if record_type == "quote":
        url = reverse("web:proposals:detail", args=[pk])
        return url, url
    return (reverse(f"web:{record_type}_detail", args=[pk]),
            reverse(f"web:{record_type}_edit", args=[pk]))


def describe(check: qc.Check, records: list, ctx: qc.Context) -> list[Item]:
    details = _details(check, records, ctx)
    rules = qc.rules_for(check.record_type) if check.fix == "required_field" else None
    items = []
    for record in records:
        url, edit_url = _urls(check.record_type, record.pk)
        missing = qc.missing_in(record, check.record_type, rules) if rules is not None else []
        detail = details.get(record.pk, "")
        if missing:
            detail = "Missing: " + ", ".join(_label(record, f) for f in missing)
        items.append(Item(record_id=record.pk, name=_name(record), url=url, edit_url=edit_url,
                          owner=owner_of(check, record), detail=detail, record=record,
                          missing=missing, version=getattr(record, "version", 0)))
    return items


def owner_of(check: qc.Check, record) -> User | None:
    """The person who answers for a flagged record (follows the check's owner path)."""
    target = record
    for step in check.owner_field.split("__"):
        target = getattr(target, step, None)
    return target


def _label(record, name: str) -> str:
    return str(record._meta.get_field(name).verbose_name)


def _name(record) -> str:
    if hasattr(record, "subject"):
        return record.subject
    return str(record)


def _details(check: qc.Check, records: list, ctx: qc.Context) -> dict[int, str]:
    ids = [r.pk for r in records]
    if check.key == "stale_opportunity":
        from django.db.models import Max

        from salesplan.activities.models import Activity

        last = dict(Activity.objects.filter(opportunity_id__in=ids).order_by()
                    .values("opportunity_id").annotate(last=Max("due_at"))
                    .values_list("opportunity_id", "last"))
        return {r.pk: (f"Last activity {last[r.pk]:%d %b %Y}" if last.get(r.pk)
                       else "No activity ever") + f"; closes {r.close_date:%d %b %Y}"
                for r in records}
    if check.key == "past_close_date":
        return {r.pk: f"Closed by {r.close_date:%d %b %Y} ({(ctx.today - r.close_date).days} "
                      f"days ago); {r.stage.name}" for r in records}
    if check.key == "close_date_pushed":
        return {r.pk: f"Pushed back {r.pushes} times; now {r.close_date:%d %b %Y}"
                for r in records}
    if check.key == "stage_jump":
        from .models import StageJump

        jumps = (StageJump.objects.filter(opportunity_id__in=ids)
                 .select_related("from_stage", "to_stage").order_by("changed_at"))
        found = {j.opportunity_id: j for j in jumps}
        return {pk: f"{j.from_stage.name} → {j.to_stage.name} on {j.changed_at:%d %b %Y}"
                for pk, j in found.items()}
    if check.key == "no_next_step":
        return {r.pk: f"{r.stage.name}; closes {r.close_date:%d %b %Y}" for r in records}
    if check.key == "overdue_activity":
        return {r.pk: f"{r.get_kind_display()} due {r.due_at:%d %b %Y}"
                      f" ({(ctx.today - r.due_at.date()).days} days ago)" for r in records}
    if check.key == "lead_not_followed_up":
        return {r.pk: f"Waiting {int((ctx.now - r.created_at).total_seconds() // 3600)} hours"
                      f" since {r.created_at:%d %b %Y %H:%M}" for r in records}
    if check.key == "discount_beyond_policy":
        return quote_details(records)
    return {}


def quote_details(quotes: list) -> dict[int, str]:
    """What each flagged quote needs, in the approval matrix's own words, and where it
    stands (one query for the lines and one for the approvals of the page)."""

    current = Q(pk__in=[])
    for quote in quotes:
        current |= Q(quote_version__quote_id=quote.pk,
                     quote_version__number=quote.current_number)
    lines: dict[int, list[QuoteLine]] = defaultdict(list)
    for line in QuoteLine.objects.filter(current).select_related("quote_version") \
            .order_by("position"):
        lines[line.quote_version.quote_id].append(line)
    pending = defaultdict(list)
    for approval in Approval.objects.filter(current, status=ApprovalStatus.PENDING) \
            .select_related("quote_version"):
        pending[approval.quote_version.quote_id].append(approval)
    rules = active_rules()
    details = {}
    for quote in quotes:
        needed = required_approvals(lines[quote.pk], rules)
        why = "; ".join(f"{r['rule']} ({r['line_count']} line{'s' if r['line_count'] > 1 else ''})"
                        for n in needed for r in n.reasons)
        who = ", ".join(sorted({n.approver_label for n in needed}))
        state = quote.get_status_display()
        if pending[quote.pk]:
            since = min(a.created_at for a in pending[quote.pk])
            state += f" since {since:%d %b %Y}"
        details[quote.pk] = f"{state}; needs {who or 'approval'}: {why}"
    return details


# --- territory violations (from the territories app) -----------------------------------


def territory_items(user, *, limit: int = 200) -> list[dict]:
    """Accounts and open opportunities owned outside their territory (the territories
    app's own list), with names filled in."""

    found = violations(user, limit=limit)
    territories = territories_by_id(v.territory_id for v in found)
    users = User.objects.in_bulk({v.owner_id for v in found}
                                 | {v.territory_owner_id for v in found if v.territory_owner_id})
    rows = []
    for v in found:
        rows.append({**v.as_dict(), "owner": users.get(v.owner_id),
                     "territory": territories.get(v.territory_id),
                     "territory_owner": users.get(v.territory_owner_id or 0),
                     "url": reverse(f"web:{v.kind}_detail", args=[v.record_id])})
    return rows


# --- duplicates --------------------------------------------------------------------------


def visible_pairs(user, record_type: str, *, status: str = DuplicateStatus.OPEN):
    """Candidate pairs of which the user may see both records."""
    visible = qc.MODELS[record_type]._default_manager.visible_to(  # type: ignore[attr-defined]
        user).values("pk")
    pairs = DuplicateCandidate.objects.filter(record_type=record_type, status=status)
    if user.visible_owner_ids is None and user.role != Role.MARKETING:
        return pairs
    return pairs.filter(left_id__in=visible, right_id__in=visible)


def pair_records(pairs: list[DuplicateCandidate]) -> dict[tuple[str, int], object]:
    """The records of the pairs, fetched in one query per record type."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for pair in pairs:
        wanted[pair.record_type].update((pair.left_id, pair.right_id))
    found: dict[tuple[str, int], object] = {}
    for record_type, ids in wanted.items():
        model = qc.MODELS[record_type]
        for record in model._default_manager.filter(pk__in=ids).select_related("owner"):
            found[(record_type, record.pk)] = record
    return found


# --- scores ------------------------------------------------------------------------------


def visible_snapshots(user):
    """Snapshots the user may read: a rep their own, a manager their teams' people and
    teams, admins and executives all."""

    snapshots = ScoreSnapshot.objects.all()
    if user.is_admin or user.role == Role.EXECUTIVE:
        return snapshots
    if user.role == Role.MANAGER:
        return snapshots.filter(Q(user_id__in=user.visible_owner_ids)
                                | Q(team_id__in=managed_team_ids(user)))
    return snapshots.filter(user=user)


def latest_scores(user) -> tuple[date | None, list[ScoreSnapshot], list[ScoreSnapshot]]:
    """The latest day's snapshots the user may see: (day, reps, teams and company)."""
    snapshots = visible_snapshots(user)
    latest = snapshots.order_by("-taken_on").values_list("taken_on", flat=True).first()
    if latest is None:
        return None, [], []
    rows = list(snapshots.filter(taken_on=latest).select_related("user", "team")
                .order_by("score", "id"))
    return latest, [s for s in rows if s.user_id], [s for s in rows if not s.user_id]


def trend(user, *, user_id: int | None = None, team_id: int | None = None,
          weekly: bool = False, days: int = 180) -> list[ScoreSnapshot]:
    """One subject's score over time (daily, or the last snapshot of each week)."""
    rows = visible_snapshots(user).filter(taken_on__gte=company_today() - timedelta(days=days))
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    elif team_id is not None:
        rows = rows.filter(team_id=team_id)
    else:
        rows = rows.filter(user__isnull=True, team__isnull=True)
    points = list(rows.order_by("taken_on"))
    if not weekly:
        return points
    by_week: dict[tuple[int, int], ScoreSnapshot] = {}
    for point in points:
        by_week[point.taken_on.isocalendar()[:2]] = point
    return list(by_week.values())


def default_subject(user) -> dict:
    """Whose trend a page shows first: a rep their own, a manager their team's,
    others the company's."""
    if user.role == Role.REP:
        return {"user_id": user.pk}
    if user.role == Role.MANAGER and user.team_id:
        return {"team_id": user.team_id}
    return {}


# --- the dashboard card ------------------------------------------------------------------


def card_key(user_id: int) -> str:
    return f"quality-card:{user_id}"


def store_card_counts(user) -> dict:
    """Count the user's issues for the dashboard card now and keep them (a day at most:
    a card older than CARD_SECONDS is recounted when next shown)."""
    from django.core.cache import cache

    counted = {"at": timezone.now(), "counts": [
        (c.check.key, c.count, c.capped)
        for c in check_counts(user, qc.Context.current()) if c.count]}
    cache.set(card_key(user.pk), counted, 86_400)
    return counted


def _recount_card_once(user_id: int) -> None:
    """Queue one recount of the user's card, not one per page opened meanwhile."""
    from django.core.cache import cache

    if cache.add(f"quality-card-recount:{user_id}", True, CARD_SECONDS):
        from .tasks import recount_card

        recount_card.enqueue(user_id)


def dashboard_card(user) -> dict | None:
    """The quality card for the role dashboards: the user's open issues per check (only
    those with issues), the total, and the latest score for the user or their team.
    None for users who have nothing to check (inactive)."""
    if not can_view(user):
        return None
    from django.core.cache import cache

    # A home page is opened often; the counts may be two minutes old there (the quality
    # pages themselves always count afresh), and older ones are recounted in the
    # background while the page shows them with their time: a manager's recount takes
    # 0.3–1.5 s under load, which the first dashboard they opened after the two minutes
    # waited for. (It was not what set the dashboard's p95 in the load test: see
    # bench/README.md, eighth run.)
    # A card never counted (or not counted for a day) is counted in the background too:
    # the card says so and fetches itself again (`quality:card`). Counted during the
    # request, the first dashboard of each manager in the load test waited 0.3–1.5 s,
    # a tenth of all dashboards (p90 470 ms, p95 870 ms at 100 users).
    cached = cache.get(card_key(user.pk))
    if cached is None or timezone.now() - cached["at"] > timedelta(seconds=CARD_SECONDS):
        _recount_card_once(user.pk)
        cached = cache.get(card_key(user.pk)) or cached  # inline backends: counted now
    if cached is None:
        return {"title": "Data quality", "counting": True,
                "refresh_url": reverse("web:quality:card"),
                "url": reverse("web:quality:overview")}
    counts = [CheckCount(qc.CHECKS[k], n, capped) for k, n, capped in cached["counts"]
              if k in qc.CHECKS]
    subject = default_subject(user)
    score = None
    snapshots = visible_snapshots(user)
    if "user_id" in subject:
        score = snapshots.filter(user_id=subject["user_id"]).order_by("-taken_on").first()
    elif "team_id" in subject:
        score = snapshots.filter(team_id=subject["team_id"]).order_by("-taken_on").first()
    else:
        score = snapshots.filter(user__isnull=True, team__isnull=True).order_by(
            "-taken_on").first()
    return {
        "title": "Data quality",
        "counted_at": cached["at"],
        "url": reverse("web:quality:overview"),
        "total": sum(c.count for c in counts),
        "capped": any(c.capped for c in counts),
        "checks": [{"key": c.check.key, "label": c.check.label, "count": c.count,
                    "capped": c.capped,
                    "url": reverse("web:quality:check", args=[c.check.key])} for c in counts],
        "score": score.score if score else None,
        "score_date": score.taken_on if score else None,
    }


RECORD_TYPES = [t.value for t in RecordType]


# --- deals at risk (the manager's home page) ----------------------------------------------

# Deals at risk are open deals flagged by one of these checks (their thresholds are the
# quality settings'), or stalled in their stage beyond the pipeline's norm.
AT_RISK_CHECKS = ("past_close_date", "stale_opportunity", "close_date_pushed")


@dataclass
class AtRiskDeal:
    deal: Opportunity
    reasons: list[str]


def at_risk_deals(user, owner_ids: list[int], *, limit: int = 10,
                  cap: int = COUNT_CAP) -> dict:
    """Open deals of these owners, among those the user sees, that are at risk, each with
    why: its close date passed while open; no activity dated in the last N days and none
    planned; its close date pushed back repeatedly; or in its stage more than twice as
    long as deals usually stay (`pipeline.selectors.stalled_in_stage`). The `limit` with
    the earliest close dates, and how many there are (up to `cap`). A fixed number of
    queries, whatever the number of deals."""
    ctx = qc.Context.current()
    days = ctx.settings.stale_after_days
    reasons: dict[int, list[str]] = defaultdict(list)
    close_dates: dict[int, date] = {}

    def flag(rows, reason) -> None:
        for pk, close_date, extra in rows[:cap + 1]:
            close_dates[pk] = close_date
            reasons[pk].append(reason(close_date, extra))

    def mine(key: str):
        return qc.CHECKS[key].query(user, ctx).filter(owner_id__in=owner_ids).order_by()

    flag(mine("past_close_date").values_list("pk", "close_date", "close_date"),
         lambda d, _: f"Close date {d:%d %b %Y} passed while still open")
    flag(mine("stale_opportunity").values_list("pk", "close_date", "close_date"),
         lambda d, _: f"No activity in the last {days} days and none planned")
    flag(mine("close_date_pushed").values_list("pk", "close_date", "pushes"),
         lambda d, n: f"Close date pushed back {n} times")
    norms = stage_norms()
    stalled = stalled_in_stage(Opportunity.objects.visible_to(user).filter(
        owner_id__in=owner_ids), limit=cap + 1)
    for pk, close_date, stage_id, entered in stalled:
        close_dates[pk] = close_date
        reasons[pk].append(f"In its stage for {(ctx.now - entered).days} days; deals "
                           f"stay {norms[stage_id].days} days on average (flagged past "
                           f"{STALL_FACTOR}×)")
    first = sorted(close_dates, key=lambda pk: (close_dates[pk], pk))[:limit]
    deals = Opportunity.objects.filter(pk__in=first).select_related("owner", "account",
                                                                    "stage")
    rows = sorted((AtRiskDeal(d, reasons[d.pk]) for d in deals),
                  key=lambda r: (r.deal.close_date, r.deal.pk))
    return {"deals": rows, "count": min(len(close_dates), cap),
            "capped": len(close_dates) > cap, "stale_after_days": days}
