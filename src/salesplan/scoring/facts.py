"""What scoring knows about a lead: the fields rules may test, and the facts each batch of
leads is scored on (lead fields plus counts of the activity logged on it)."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from salesplan.customers.models import Lead

from .models import RuleKind

FREE_MAIL = frozenset({"gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com",
                       "icloud.com", "proton.me", "protonmail.com", "live.com", "msn.com"})


@dataclass(frozen=True)
class FactField:
    name: str
    label: str
    kind: str  # RuleKind
    numeric: bool


FACT_FIELDS: dict[str, FactField] = {f.name: f for f in (
    FactField("industry", "Industry", RuleKind.FIT, False),
    FactField("employees", "Employees", RuleKind.FIT, True),
    FactField("title", "Job title", RuleKind.FIT, False),
    FactField("seniority", "Seniority (from the title)", RuleKind.FIT, False),
    FactField("country", "Country", RuleKind.FIT, False),
    FactField("state", "State/region", RuleKind.FIT, False),
    FactField("city", "City", RuleKind.FIT, False),
    FactField("postal_code", "Postal code", RuleKind.FIT, False),
    FactField("source", "Lead source", RuleKind.FIT, False),
    FactField("campaign", "Campaign", RuleKind.FIT, False),
    FactField("email_domain", "Email domain", RuleKind.FIT, False),
    FactField("email_kind", "Email kind (company/free)", RuleKind.FIT, False),
    FactField("activities", "Activities logged", RuleKind.ENGAGEMENT, True),
    FactField("activities_30d", "Activities in the last 30 days", RuleKind.ENGAGEMENT, True),
    FactField("calls", "Calls", RuleKind.ENGAGEMENT, True),
    FactField("meetings", "Meetings", RuleKind.ENGAGEMENT, True),
    FactField("emails", "Emails", RuleKind.ENGAGEMENT, True),
    FactField("positive_outcomes", "Activities with a positive outcome",
              RuleKind.ENGAGEMENT, True),
    FactField("campaign_opens", "Campaign e-mails opened (or further)",
              RuleKind.ENGAGEMENT, True),
    FactField("campaign_responses", "Campaign responses", RuleKind.ENGAGEMENT, True),
)}

# The predictive model reads what a lead brings with it, not what happened to it later:
# activity counts of closed leads include work done after the outcome and would leak it.
PREDICTIVE_CATEGORIES = ("industry", "source", "state", "seniority", "email_kind")
PREDICTIVE_NUMBERS = ("employees",)

SENIORITY_WORDS = (
    ("executive", ("chief", "ceo", "cfo", "coo", "cto", "cio", "president", "owner",
                   "founder", "partner", "vp", "vice president")),
    ("director", ("director", "head of")),
    ("manager", ("manager", "lead", "supervisor")),
)


def seniority(title: str) -> str:
    text = f" {title.lower()} "
    for level, words in SENIORITY_WORDS:
        if any(f" {w} " in text or f" {w}," in text or text.strip().startswith(w)
               for w in words):
            return level
    return "staff" if title.strip() else ""


def feature_label(feature: str, facts: dict[str, Any] | None = None) -> str:
    """A model feature in words: "industry=Healthcare" -> "Industry: Healthcare";
    a number -> "Employees: 120" for a lead, "Employees (larger)" for the model."""
    name, _, value = feature.partition("=")
    fact = FACT_FIELDS.get(name)
    label = fact.label if fact else name.replace("_", " ").capitalize()
    if value:
        return f"{label}: {value}"
    if facts is not None and facts.get(name) not in (None, ""):
        return f"{label}: {facts[name]:,}" if isinstance(facts[name], int) else (
            f"{label}: {facts[name]}")
    return f"{label} (more)"


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower() if "@" in email else ""


def _campaign_member_model():
    """Campaign responses count when the marketing app records campaign members."""
    try:
        return apps.get_model("marketing", "CampaignMember")
    except LookupError:
        return None


def campaign_responses_available() -> bool:
    model = _campaign_member_model()
    return model is not None and any(f.name == "lead" for f in model._meta.get_fields())


def _annotated(leads: QuerySet[Lead]) -> QuerySet[Lead]:
    since = timezone.now() - timedelta(days=30)
    return leads.annotate(
        n_activities=Count("activities"),
        n_recent=Count("activities", filter=Q(activities__due_at__gte=since)),
        n_calls=Count("activities", filter=Q(activities__kind="call")),
        n_meetings=Count("activities", filter=Q(activities__kind="meeting")),
        n_emails=Count("activities", filter=Q(activities__kind="email")),
        n_positive=Count("activities", filter=Q(activities__outcome="positive")),
    )


def _campaign_counts(lead_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(campaigns opened or further, campaigns responded to) per lead."""
    model = _campaign_member_model()
    if model is None or not campaign_responses_available():
        return {}
    names = {f.name for f in model._meta.get_fields()}
    members = model.objects.filter(lead_id__in=lead_ids)
    counts: dict[str, Any] = {"n": Count("pk")}
    if "response" in names:
        counts["opened"] = Count("pk", filter=~Q(response="sent"))
    if "responded_at" in names:
        counts["responded"] = Count("pk", filter=Q(responded_at__isnull=False))
    rows = members.values("lead_id").annotate(**counts)
    return {r["lead_id"]: (r.get("opened", 0), r.get("responded", 0)) for r in rows}


def facts_of(lead: Lead, counts: dict[str, int]) -> dict[str, Any]:
    domain = email_domain(lead.email)
    return {
        "id": lead.pk, "status": lead.status, "created_at": lead.created_at,
        "industry": lead.industry,
        "employees": lead.employees, "title": lead.title, "seniority": seniority(lead.title),
        "country": lead.country, "state": lead.state, "city": lead.city,
        "postal_code": lead.postal_code, "source": lead.source, "campaign": lead.campaign,
        "email_domain": domain,
        "email_kind": "" if not domain else ("free" if domain in FREE_MAIL else "company"),
        **counts,
    }


FACT_COLUMNS = ("id", "status", "created_at", "industry", "employees", "title", "country",
                "state", "city", "postal_code", "source", "campaign", "email")


def lead_facts(leads: QuerySet[Lead]) -> list[dict[str, Any]]:
    """Facts of every lead in the queryset (meant for one batch of a few thousand)."""
    rows = list(_annotated(leads.order_by()).only(*FACT_COLUMNS))
    campaigns = _campaign_counts([lead.pk for lead in rows])
    return [facts_of(lead, {
        "activities": lead.n_activities, "activities_30d": lead.n_recent,  # type: ignore[attr-defined]
        "calls": lead.n_calls, "meetings": lead.n_meetings,  # type: ignore[attr-defined]
        "emails": lead.n_emails, "positive_outcomes": lead.n_positive,  # type: ignore[attr-defined]
        "campaign_opens": campaigns.get(lead.pk, (0, 0))[0],
        "campaign_responses": campaigns.get(lead.pk, (0, 0))[1],
    }) for lead in rows]


def batches(leads: QuerySet[Lead], size: int = 5000) -> Iterator[list[dict[str, Any]]]:
    """Facts of all the leads, a batch at a time in id order (memory stays bounded)."""
    last = 0
    while True:
        ids = list(leads.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:size])
        if not ids:
            return
        last = ids[-1]
        yield lead_facts(Lead.objects.filter(pk__in=ids))
