"""Lead capture from public web forms.

A submission is checked (validation naming each field, the honeypot, the per-address
allowance) and stored in the intake inbox in one short transaction; the visitor is
answered then. The intake turns stored submissions into leads in batches, in one
transaction per batch: de-duplication against existing leads and contacts (update,
don't duplicate), campaign membership, routing and the lead's story — each submission
with exactly the outcome it would have had alone. A submission the batch cannot take is
kept with its error instead of being lost.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import connection, transaction
from django.utils import timezone

from salesplan.core.audit import display_value, record_type
from salesplan.core.models import AuditEntry
from salesplan.customers.models import Contact, Lead, LeadStatus, search_key
from salesplan.imports import bulk
from salesplan.org.models import User
from salesplan.scoring.services import rescore_all

from . import notices
from .models import (
    RESPONDED_STEPS,
    RESPONSE_ORDER,
    CampaignMember,
    CaptureForm,
    CaptureRateCount,
    CaptureSubmission,
    LeadEvent,
    LeadHandoff,
    MarketingPolicy,
    Stage,
)
from .routing import Router, RoutingDecision, decision_event_fields, routed_state
from .services import FORM_FIELDS

log = logging.getLogger(__name__)

HONEYPOT = "website_url"  # hidden from people; bots fill every field they see
ALWAYS = ("first_name", "last_name", "email")
MAX_LENGTHS = {"first_name": 100, "last_name": 100, "email": 254, "title": 120, "phone": 40,
               "company": 200, "website": 200, "industry": 80, "city": 100, "state": 100,
               "postal_code": 20, "country": 2}
RATE_WINDOW = 60  # seconds


class RateLimited(Exception):
    """Too many submissions from one address to one form; try again after a while."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"Too many submissions; try again in {retry_after} seconds.")


@dataclass
class Receipt:
    """What the visitor is told: the stored submission, or nothing stored for a bot."""

    submission_id: int | None
    spam: bool = False


FORM_SECONDS = 5  # a paused form stops taking submissions within this many seconds
_forms: dict[str, tuple[float, CaptureForm | None]] = {}


def active_form(key: str) -> CaptureForm | None:
    """The active form with this key, remembered for a few seconds: the public endpoint
    reads it on every submission."""
    key = key[:40]
    now = time.monotonic()
    found = _forms.get(key)
    if found is not None and found[0] > now:
        return found[1]
    form = CaptureForm.objects.select_related("campaign").filter(key=key, is_active=True).first()
    if len(_forms) > 1000:
        _forms.clear()
    _forms[key] = (now + FORM_SECONDS, form)
    return form


def forget_form(key: str) -> None:
    """Drop the remembered form (after an edit in this process)."""
    _forms.pop(key, None)


def fields_of(form: CaptureForm) -> tuple[str, ...]:
    return ALWAYS + tuple(f for f in FORM_FIELDS if f in form.fields)


def clean_submission(form: CaptureForm, raw: dict, *, strict: bool) -> dict:
    """The submitted lead fields, trimmed and checked; every wrong field is named.
    `strict` refuses fields the form does not have (the JSON API); the HTML form
    ignores them."""
    errors: dict[str, list[str]] = {}
    allowed = fields_of(form)
    if strict:
        for key in raw:
            if key not in allowed and key != HONEYPOT:
                errors[key] = ["This form has no such field."]
    data: dict = {}
    for key in allowed:
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            errors[key] = ["Send text."]
            continue
        text = str(value).strip()
        if len(text) > MAX_LENGTHS.get(key, 200):
            errors[key] = [f"At most {MAX_LENGTHS.get(key, 200)} characters."]
            continue
        if text:
            data[key] = text
    for key in ("last_name", "email", *form.required_fields):
        if key not in data and key not in errors:
            errors[key] = ["This field is required."]
    if "email" in data:
        try:
            validate_email(data["email"])
            data["email"] = data["email"].lower()
        except ValidationError:
            errors["email"] = ["Enter a valid email address."]
    if "employees" in data:
        if not data["employees"].isdigit() or int(data["employees"]) > 10_000_000:
            errors["employees"] = ["Enter a whole number of employees."]
        else:
            data["employees"] = int(data["employees"])
    if "country" in data:
        if len(data["country"]) != 2 or not data["country"].isalpha():
            errors["country"] = ["Use the two-letter country code, e.g. US."]
        data["country"] = data["country"].upper()
    if "website" in data:
        if "://" not in data["website"]:
            data["website"] = "https://" + data["website"]
        try:
            URLValidator()(data["website"])
        except ValidationError:
            errors["website"] = ["Enter a valid web address."]
    if errors:
        raise ValidationError(errors)
    return data




@dataclass
class Arrival:
    """A checked submission on its way into the inbox. `data` is None for one that is
    only counted against the allowance (a bot's, or one refused as invalid)."""

    form: CaptureForm
    address: str
    data: dict | None
    at: float
    submission_id: int | None = None
    retry_after: int | None = None  # set when the allowance was spent


def store(arrivals: list[Arrival]) -> None:
    """Count each arrival against its address's allowance for the form in the current
    minute, refusing (in arrival order) those beyond it, and store the good ones; in the
    caller's transaction, so they are answered only once this commits. Refused arrivals
    are not counted."""
    groups: dict[tuple[int, str, int], list[Arrival]] = {}
    for arrival in arrivals:
        key = (arrival.form.pk, arrival.address[:64], int(arrival.at // RATE_WINDOW))
        groups.setdefault(key, []).append(arrival)
    table = CaptureRateCount._meta.db_table
    with connection.cursor() as cursor:
        for (form_id, address, minute), group in groups.items():
            cursor.execute(
                f"INSERT INTO {table} (form_id, address, minute, count) VALUES (%s, %s, %s, %s) "  # noqa: S608
                f"ON CONFLICT (form_id, address, minute) DO UPDATE SET count = {table}.count "
                "+ excluded.count RETURNING count", [form_id, address, minute, len(group)])
            after = cursor.fetchone()[0]
            before, limit = after - len(group), group[0].form.rate_limit
            for position, arrival in enumerate(group, start=1):
                if before + position > limit:
                    arrival.retry_after = max(1, int((minute + 1) * RATE_WINDOW - arrival.at) + 1)
            if after > limit:
                cursor.execute(f"UPDATE {table} SET count = %s WHERE form_id = %s AND "  # noqa: S608
                               "address = %s AND minute = %s",
                               [max(before, limit), form_id, address, minute])
    good = [a for a in arrivals if a.data is not None and a.retry_after is None]
    rows = [CaptureSubmission(form=a.form, data=a.data, address=a.address[:64],
                              received_at=datetime.fromtimestamp(a.at, tz=UTC)) for a in good]
    bulk.insert_objects(CaptureSubmission, rows)
    for arrival, row in zip(good, rows, strict=True):
        arrival.submission_id = row.pk


def check(form: CaptureForm, raw: dict, *, address: str, strict: bool
          ) -> tuple[Arrival, ValidationError | None]:
    """The submission checked: a bot's (honeypot filled) and an invalid one are only
    counted; the error names every wrong field."""
    spam = bool(str(raw.get(HONEYPOT) or "").strip())
    data: dict | None = None
    invalid: ValidationError | None = None
    if not spam:
        try:
            data = clean_submission(form, raw, strict=strict)
        except ValidationError as exc:
            invalid = exc
    return Arrival(form, address, data, time.time()), invalid


def accept(form: CaptureForm, raw: dict, *, address: str, strict: bool = True,
           hand_over: Callable[[Arrival], None] | None = None) -> Receipt:
    """Take one submission: refuse floods (RateLimited) and bad input (ValidationError
    naming the fields; counted against the allowance all the same), swallow bot
    submissions, and store a good one for the intake. `hand_over` stores it with other
    arrivals (the server's intake thread) and returns once they are committed; without
    it the submission is stored here in its own transaction."""
    arrival, invalid = check(form, raw, address=address, strict=strict)
    if hand_over is None:
        with transaction.atomic():
            store([arrival])
    else:
        hand_over(arrival)
    if arrival.retry_after is not None:
        raise RateLimited(arrival.retry_after)
    if invalid is not None:
        raise invalid
    return Receipt(arrival.submission_id, spam=arrival.data is None)


# --- the intake: stored submissions → leads, a batch at a time ----------------------------

BATCH = 500


@dataclass
class Pending:
    id: int
    form: CaptureForm
    data: dict


@dataclass
class Outcome:
    outcome: str
    lead_id: int | None = None
    contact_id: int | None = None


def process_inbox(limit: int = BATCH, *, score: bool = True) -> int:
    """Turn up to `limit` waiting submissions (oldest first) into leads, in one
    transaction; returns how many were taken. The leads are scored after the commit, or
    later by score_captured (the server's intake scores when no submissions wait)."""
    with transaction.atomic():
        _serialise_intake()
        rows = list(CaptureSubmission.objects.filter(status=CaptureSubmission.Status.PENDING)
                    .order_by("id").values_list("id", "form_id", "data")[:limit])
        if not rows:
            return 0
        forms = CaptureForm.objects.select_related("campaign").in_bulk({r[1] for r in rows})
        pending = [Pending(pk, forms[form_id], data) for pk, form_id, data in rows]
        results: dict[int, Outcome | str]
        try:
            with transaction.atomic():
                results = dict(save_batch(pending))
        except Exception:  # noqa: BLE001 — one bad submission must not hold up the others
            log.exception("A capture batch failed; taking its submissions one at a time.")
            results = _one_at_a_time(pending)
        _mark(results)
    if score:
        score_captured(ids=list(results))
    return len(rows)


def score_captured(limit: int = 2000, ids: list[int] | None = None) -> int:
    """Score the leads of processed submissions not scored yet (or of the submissions
    given); returns how many submissions were settled."""
    waiting = CaptureSubmission.objects.filter(status=CaptureSubmission.Status.DONE,
                                               scored=False)
    if ids is not None:
        waiting = waiting.filter(pk__in=ids)
    rows = list(waiting.order_by("id").values_list("id", "lead_id")[:limit])
    if not rows:
        return 0
    leads = sorted({lead_id for _, lead_id in rows if lead_id is not None})
    if leads:
        _rescore(leads)
    CaptureSubmission.objects.filter(pk__in=[pk for pk, _ in rows]).update(scored=True)
    return len(rows)


def _serialise_intake() -> None:
    """One batch at a time across server processes: SQLite's write transaction already
    is exclusive; PostgreSQL takes a transaction-scoped advisory lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('salesplan-capture-intake'))")


def _one_at_a_time(pending: list[Pending]) -> dict[int, Outcome | str]:
    results: dict[int, Outcome | str] = {}
    for item in pending:
        try:
            with transaction.atomic():
                results.update(save_batch([item]))
        except Exception as exc:  # noqa: BLE001 — kept with its error, never dropped
            log.exception("Capture submission %s could not be processed.", item.id)
            results[item.id] = f"{type(exc).__name__}: {exc}"[:500]
    return results


def _mark(results: dict[int, "Outcome | str"]) -> None:
    now = timezone.now()
    done = []
    for pk, result in results.items():
        if isinstance(result, Outcome):
            done.append(CaptureSubmission(
                pk=pk, status=CaptureSubmission.Status.DONE, outcome=result.outcome,
                lead_id=result.lead_id, contact_id=result.contact_id, processed_at=now,
                error=""))
        else:
            done.append(CaptureSubmission(pk=pk, status=CaptureSubmission.Status.FAILED,
                                          processed_at=now, error=result))
    bulk.update(CaptureSubmission, done,
                ["status", "outcome", "lead", "contact", "processed_at", "error"])


def _rescore(lead_ids: list[int]) -> None:

    try:
        rescore_all(Lead.objects.filter(pk__in=lead_ids))
    except Exception:  # noqa: BLE001 — a scoring failure never undoes a capture
        log.exception("Scoring captured leads failed; `salesplan scoring score` catches up.")


def save_batch(pending: list[Pending]) -> list[tuple[int, Outcome]]:
    """Each submission's outcome, exactly as if they had come one after another: a later
    submission from an address already in the batch sees the lead the earlier one made
    (the batch is cut into waves in which every address appears once)."""
    results: list[tuple[int, Outcome]] = []
    wave = pending
    while wave:
        seen: set[str] = set()
        now_wave: list[Pending] = []
        later: list[Pending] = []
        for item in wave:
            email = item.data["email"]
            (later if email in seen else now_wave).append(item)
            seen.add(email)
        results.extend(_Wave(now_wave).save())
        wave = later
    return results


class _Wave:
    """Submissions with distinct addresses, saved with a few statements for all."""

    def __init__(self, items: list[Pending]):
        self.items = items
        self.now = timezone.now()
        # Rows as {column: value}: building model instances costs more than writing them.
        self.events: list[dict] = []
        self.audits: list[dict] = []
        self.outcomes: dict[int, Outcome] = {}
        self.fresh_ids: set[int] = set()

    def save(self) -> list[tuple[int, Outcome]]:
        emails = [item.data["email"] for item in self.items]
        leads: dict[str, Lead] = {}
        for lead in (Lead.objects.filter(email__in=emails).exclude(status=LeadStatus.CONVERTED)
                     .order_by("id")):
            leads.setdefault(lead.email, lead)
        rest = [e for e in emails if e not in leads]
        contacts: dict[str, int] = {}
        for contact_id, email in (Contact.objects.filter(email__in=rest).order_by("id")
                                  .values_list("id", "email")):
            contacts.setdefault(email, contact_id)
        handoffs = {h.lead_id: h for h in LeadHandoff.objects.filter(
            lead_id__in=[lead.pk for lead in leads.values()])}
        policy = MarketingPolicy.current()
        to_route: list[tuple[Lead, Pending]] = []
        changed: dict[int, set[str]] = {}
        fresh: list[tuple[Lead, Pending]] = []
        for item in self.items:
            email = item.data["email"]
            if email in leads:
                lead = leads[email]
                if self._update(lead, item, handoffs.get(lead.pk), changed):
                    to_route.append((lead, item))
            elif email in contacts:
                self.outcomes[item.id] = Outcome(CaptureSubmission.Outcome.CONTACT,
                                                 contact_id=contacts[email])
            else:
                lead = self._new_lead(item)
                fresh.append((lead, item))
                to_route.append((lead, item))
        router = Router(policy)
        decisions = router.decide_all([lead for lead, _ in to_route])
        for (lead, _), decision in zip(to_route, decisions, strict=True):
            if lead.pk is None and decision.rep_id is not None:
                lead.owner_id = decision.rep_id
        self._insert_new(fresh)
        self._apply_routing(to_route, decisions, handoffs, changed, router)
        router.save()
        self._write_updates(leads, changed)
        self._responses(fresh, leads, contacts)
        bulk.insert(AuditEntry, self.audits)
        bulk.insert(LeadEvent, self.events)
        return [(item.id, self.outcomes[item.id]) for item in self.items]

    # -- existing leads --

    def _update(self, lead: Lead, item: Pending, handoff: LeadHandoff | None,
                changed: dict[int, set[str]]) -> bool:
        """Fill in what the visitor sent now (the address stays the lead's); True when the
        lead goes back through routing (never routed, queued, or recycled)."""
        form = item.form
        changes = {key: (getattr(lead, key), value) for key, value in item.data.items()
                   if key != "email" and getattr(lead, key) != value}
        if changes:
            for key, (_, value) in changes.items():
                setattr(lead, key, value)
            lead.version += 1
            lead.name_key = search_key(lead.last_name, lead.first_name)
            changed.setdefault(lead.pk, set()).update(changes)
            self.audits.extend(_audit_update(lead, key, old, new)
                               for key, (old, new) in changes.items())
        self.outcomes[item.id] = Outcome(CaptureSubmission.Outcome.UPDATED, lead_id=lead.pk)
        self.events.append(self._event(lead, LeadEvent.Kind.CAPTURED,
                                       f"Submitted {form.name} again."))
        if handoff is not None and not handoff.queued and handoff.stage != Stage.RECYCLED:
            return False
        if handoff is not None and handoff.stage == Stage.RECYCLED:
            self.events.append(self._event(
                lead, LeadEvent.Kind.STAGE,
                f"Recycled → Marketing-qualified: responded to {form.name}."))
        return True

    def _apply_routing(self, to_route: list[tuple[Lead, Pending]],
                       decisions: list[RoutingDecision], handoffs: dict[int, LeadHandoff],
                       changed: dict[int, set[str]], router: Router) -> None:
        """Record each decision: the lead's owner, its handoff's territory and first-touch
        clock, or its place in the queue; with the decision in the lead's story."""
        policy = router.policy
        rep_names = router.rmap.names if router.rmap is not None else {}
        old_owner_ids = {lead.owner_id for (lead, _), d in zip(to_route, decisions, strict=True)
                         if lead.pk not in self.fresh_ids and d.rep_id not in (None, lead.owner_id)}
        names = {u.pk: str(u) for u in User.objects.filter(pk__in=old_owner_ids)}
        new_handoffs: list[LeadHandoff] = []
        moved: list[LeadHandoff] = []
        routed: list[tuple[Lead, LeadHandoff]] = []
        for (lead, item), decision in zip(to_route, decisions, strict=True):
            state = routed_state(decision, self.now, policy)
            if lead.pk in self.fresh_ids:
                new_handoffs.append(LeadHandoff(
                    lead=lead, stage=Stage.MQL, stage_changed_at=self.now,
                    campaign=item.form.campaign, source=item.form.source, form=item.form,
                    **state))
                self.events.append(self._decision_event(lead, decision))
                if decision.rep_id is not None:
                    routed.append((lead, new_handoffs[-1]))
                continue
            handoff = handoffs.get(lead.pk)
            if handoff is None:
                handoff = LeadHandoff(lead=lead, stage_changed_at=self.now, source=lead.source)
                new_handoffs.append(handoff)
            else:
                moved.append(handoff)
            for key, value in state.items():
                setattr(handoff, key, value)
            if decision.rep_id is not None:
                if lead.owner_id != decision.rep_id:
                    self.audits.append(_audit_update(lead, "owner", names.get(lead.owner_id, ""),
                                                     rep_names.get(decision.rep_id, "")))
                    lead.owner_id = decision.rep_id
                    lead.version += 1
                    changed.setdefault(lead.pk, set()).add("owner")
                if handoff.stage not in (Stage.MQL, Stage.SAL, Stage.SQL):
                    handoff.stage, handoff.stage_changed_at, handoff.reason = (
                        Stage.MQL, self.now, "")
                routed.append((lead, handoff))
            self.events.append(self._decision_event(lead, decision))
        LeadHandoff.objects.bulk_create(new_handoffs, batch_size=500)
        bulk.update(LeadHandoff, moved, [
            "stage", "stage_changed_at", "reason", "territory", "queued", "queue_reason",
            "routed_at", "sla_due_at", "first_touch_at", "escalated_at"])
        notices.leads_routed(routed)

    def _write_updates(self, leads: dict[str, Lead], changed: dict[int, set[str]]) -> None:
        if not changed:
            return
        # Each lead writes only the fields that changed on it, so a concurrent edit of
        # another field is never overwritten; leads that changed alike share a statement.
        groups: dict[tuple[str, ...], list[Lead]] = {}
        for lead in leads.values():
            if lead.pk in changed:
                lead.updated_at = self.now
                names = tuple(sorted(changed[lead.pk] | {"version", "name_key", "updated_at"}))
                groups.setdefault(names, []).append(lead)
        for names, rows in groups.items():
            bulk.update(Lead, rows, list(names))

    # -- new leads --

    def _new_lead(self, item: Pending) -> Lead:
        form = item.form
        campaign = form.campaign
        lead = Lead(**item.data, owner_id=form.queue_owner_id, source=form.source,
                    campaign=campaign.name[:120] if campaign is not None else "")
        lead.name_key = search_key(lead.last_name, lead.first_name)
        return lead

    def _insert_new(self, fresh: list[tuple[Lead, Pending]]) -> None:
        """The new leads with their owners, creation records and outcomes."""
        bulk.insert_objects(Lead, [lead for lead, _ in fresh])
        self.fresh_ids = {lead.pk for lead, _ in fresh}
        for lead, item in fresh:
            self.outcomes[item.id] = Outcome(CaptureSubmission.Outcome.CREATED, lead_id=lead.pk)
            self.audits.append({"record_type": record_type(lead), "record_id": lead.pk,
                                "action": AuditEntry.Action.CREATE})
            self.events.append(self._event(lead, LeadEvent.Kind.CAPTURED,
                                           f"Captured by {item.form.name}."))

    def _event(self, lead: Lead, kind: str, message: str) -> dict:
        return {"lead_id": lead.pk, "kind": kind, "at": self.now, "message": message[:500]}

    def _decision_event(self, lead: Lead, decision: RoutingDecision) -> dict:
        return {"lead_id": lead.pk, "at": self.now, **decision_event_fields(decision)}

    # -- campaign responses --

    def _responses(self, fresh: list[tuple[Lead, Pending]], leads: dict[str, Lead],
                   contacts: dict[str, int]) -> None:
        """Each submission's response on its form's campaign, for the lead or the contact:
        a new member, or an existing member's response moved forward (never back)."""
        wanted: dict[tuple[int, str, int], Pending] = {}
        for item in self.items:
            campaign = item.form.campaign
            if campaign is None:
                continue
            email = item.data["email"]
            if email in leads:
                wanted[(campaign.pk, "lead", leads[email].pk)] = item
            elif email in contacts:
                wanted[(campaign.pk, "contact", contacts[email])] = item
        for lead, item in fresh:
            if item.form.campaign is not None:
                wanted[(item.form.campaign.pk, "lead", lead.pk)] = item
        if not wanted:
            return
        campaign_ids = {c for c, _, _ in wanted}
        existing: dict[tuple[int, str, int], CampaignMember] = {}
        for kind in ("lead", "contact"):
            ids = [pk for _, k, pk in wanted if k == kind]
            if ids:
                for member in CampaignMember.objects.filter(campaign_id__in=campaign_ids,
                                                            **{f"{kind}_id__in": ids}):
                    existing[(member.campaign_id, kind, getattr(member, f"{kind}_id"))] = member
        created: list[CampaignMember] = []
        advanced: list[CampaignMember] = []
        for key, item in wanted.items():
            response = item.form.response
            found = existing.get(key)
            if found is None:
                campaign_id, kind, pk = key
                member = CampaignMember(campaign_id=campaign_id, response=response,
                                        **{f"{kind}_id": pk})
                created.append(member)
            elif RESPONSE_ORDER[response] > RESPONSE_ORDER[found.response]:
                member = found
                member.response = response
                advanced.append(member)
            else:
                continue
            if response in RESPONDED_STEPS and member.responded_at is None:
                member.responded_at = self.now
        bulk.insert_objects(CampaignMember, created)
        for member in advanced:
            member.updated_at = self.now
        bulk.update(CampaignMember, advanced, ["response", "responded_at", "updated_at"])


def _audit_update(lead: Lead, field: str, old, new) -> dict:
    return {"record_type": record_type(lead), "record_id": lead.pk,
            "action": AuditEntry.Action.UPDATE, "field": field,
            "old_value": display_value(old), "new_value": display_value(new)}
