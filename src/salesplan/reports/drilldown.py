"""The records behind a figure: the same conditions as the figure, applied to the
records the user may see (`visible_to(user)`), so every number can be opened."""

from collections.abc import Mapping
from datetime import date

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from salesplan.activities.models import Activity
from salesplan.core.clock import company_zone
from salesplan.customers.models import Lead, LeadStatus
from salesplan.metrics import rollup
from salesplan.metrics.models import NO_TERRITORY
from salesplan.pipeline.models import Opportunity
from salesplan.territories.models import AccountTerritory, TerritoryType

from .facts import _instant, _month_bounds
from .scope import ReportFilters, filtered_owners

SOURCES = {"opportunity": Opportunity, "activity": Activity, "lead": Lead}
LIMIT = 500


def _int(spec: Mapping[str, str], name: str) -> int:
    try:
        return int(spec[name])
    except (TypeError, ValueError):
        raise ValidationError({name: f"{name} must be a number."}) from None


def _months(filters: ReportFilters, spec: Mapping[str, str]) -> list[date]:
    if spec.get("month"):
        try:
            return [date.fromisoformat(spec["month"]).replace(day=1)]
        except ValueError:
            raise ValidationError({"month": "month must be a date (YYYY-MM-DD)."}) from None
    return filters.period.months


def drill_records(user, filters: ReportFilters, spec: Mapping[str, str]) -> tuple[str, QuerySet]:
    """(source name, queryset) of the records behind a report row."""
    source = spec.get("src", "opportunity")
    if source not in SOURCES:
        raise ValidationError({"src": f"src must be one of {', '.join(SOURCES)}."})
    model = SOURCES[source]
    owners = filtered_owners(user, filters, model)
    qs = model.objects.visible_to(user)  # type: ignore[attr-defined]
    if owners is not None:
        qs = qs.filter(owner_id__in=owners)
    if spec.get("owner"):
        qs = qs.filter(owner_id=_int(spec, "owner"))
    if spec.get("team"):
        team = _int(spec, "team")
        qs = qs.filter(owner__team__isnull=True) if team == 0 else qs.filter(owner__team_id=team)
    first, after = _month_bounds(_months(filters, spec))
    zone = company_zone()
    if source == "opportunity":
        qs = _opportunities(qs, filters, spec, first, after, zone)
    elif source == "activity":
        qs = qs.filter(due_at__gte=_instant(first, zone), due_at__lt=_instant(after, zone))
        if spec.get("done") in ("0", "1"):
            qs = qs.filter(done=spec["done"] == "1")
        if spec.get("kind"):
            qs = qs.filter(kind=spec["kind"])
        qs = qs.select_related("owner", "account").order_by("-due_at", "-id")
    else:
        qs = qs.filter(created_at__gte=_instant(first, zone), created_at__lt=_instant(after, zone))
        if spec.get("converted") in ("0", "1"):
            converted = spec["converted"] == "1"
            qs = (qs.filter(status=LeadStatus.CONVERTED) if converted
                  else qs.exclude(status=LeadStatus.CONVERTED))
        if spec.get("source"):
            qs = qs.filter(source=spec["source"])
        qs = qs.select_related("owner").order_by("-created_at", "-id")
    return source, qs


def _opportunities(qs, filters: ReportFilters, spec, first, after, zone) -> QuerySet:
    qs = qs.filter(currency=filters.currency)
    if spec.get("basis", "close") == "created":
        qs = qs.filter(created_at__gte=_instant(first, zone), created_at__lt=_instant(after, zone))
    else:
        qs = qs.filter(close_date__gte=first, close_date__lt=after)
    if spec.get("status"):
        qs = qs.filter(status__in=spec["status"].split(","))
    pipeline = spec.get("pipeline") or (str(filters.pipeline_id) if filters.pipeline_id else "")
    if pipeline:
        qs = qs.filter(pipeline_id=_int({"pipeline": pipeline}, "pipeline"))
    if spec.get("pipeline_kind"):
        qs = qs.filter(pipeline__kind=spec["pipeline_kind"])
    if spec.get("stage"):
        qs = qs.filter(stage_id=_int(spec, "stage"))
    territory = spec.get("territory") or (str(filters.territory_id)
                                          if filters.territory_id else "")
    if territory:
        qs = _in_territory(qs, _int({"territory": territory}, "territory"))
    if spec.get("reached"):
        qs = _reached(qs, _int(spec, "reached"))
    if spec.get("product"):
        from .catalog.products import opportunities_with_product

        qs = opportunities_with_product(qs, spec["product"])
    return qs.select_related("account", "owner", "stage").order_by("close_date", "id")


def _in_territory(qs, territory_id: int) -> QuerySet:
    alignment_id, _ = rollup.active_territory_key()
    if alignment_id is None:
        return qs if territory_id == NO_TERRITORY else qs.none()
    assigned = AccountTerritory.objects.filter(alignment_id=alignment_id,
                                               type=TerritoryType.GEOGRAPHIC)
    if territory_id == NO_TERRITORY:
        return qs.exclude(account_id__in=assigned.values("account_id"))
    return qs.filter(account_id__in=assigned.filter(territory_id=territory_id)
                     .values("account_id"))


def _reached(qs, position: int) -> QuerySet:
    from .facts import _naive_reached

    return qs.annotate(reached_position=_naive_reached()).filter(reached_position__gte=position)
