"""How opportunities are filtered, searched and sorted (UI, API, export)."""

from salesplan.core.listing import Column, Filter, ListDefinition
from salesplan.customers.filters import owner_names

from .models import ForecastCategory, Pipeline, Stage, StageKind


def _stage_names(ids: list) -> dict:
    return {stage.pk: f"{stage.pipeline.name}: {stage.name}"
            for stage in Stage.objects.filter(pk__in=ids).select_related("pipeline")}


def _pipeline_names(ids: list) -> dict:
    return dict(Pipeline.objects.filter(pk__in=ids).values_list("pk", "name"))


def _without_next_step(queryset, values: list[bool]):
    """true: the deals whose next step is blank; false: those that have one."""
    return queryset.filter(next_step="") if values[0] else queryset.exclude(next_step="")


OPPORTUNITY_LIST = ListDefinition(
    filters={
        "owner": Filter("owner_id", "int", "Owner", multiple=True),
        "stage": Filter("stage_id", "int", "Stage", multiple=True),
        "pipeline": Filter("pipeline_id", "int", "Pipeline"),
        "account": Filter("account_id", "int", "Account"),
        "status": Filter("status", label="Status", choices=tuple(StageKind.choices)),
        "forecast_category": Filter("forecast_category", label="Forecast category",
                                    choices=tuple(ForecastCategory.choices)),
        "close_after": Filter("close_date__gte", "date", "Closes on or after"),
        "close_before": Filter("close_date__lte", "date", "Closes on or before"),
        "min_amount": Filter("amount__gte", "decimal", "Amount at least"),
        "no_next_step": Filter("next_step", "bool", "Without next step",
                               method=_without_next_step),
    },
    sorts={"close_date": "close_date", "-close_date": "-close_date", "amount": "amount",
           "-amount": "-amount", "name": "name_key", "-name": "-name_key",
           "created": "created_at", "-created": "-created_at"},
    default_sort="close_date",
    search_fields=("name_key",),
    contains_fields=("name", "account__name"),
    search_label="Part of the opportunity's or its account's name (any case).",
    columns={"name": Column("Name", "name", "name"), "account": Column("Account", "account"),
             "stage": Column("Stage", "stage"), "amount": Column("Amount", "amount", "amount"),
             "currency": Column("Currency", "currency"),
             "close_date": Column("Close date", "close_date", "close_date"),
             "forecast_category": Column("Forecast", "get_forecast_category_display"),
             "next_step": Column("Next step", "next_step"), "owner": Column("Owner", "owner"),
             "created": Column("Created", "created_at", "created")},
    facets=("owner", "stage", "status", "forecast_category", "pipeline"),
    facet_labels={"owner": owner_names, "stage": _stage_names, "pipeline": _pipeline_names},
)
