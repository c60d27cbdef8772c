"""What a report is and what running one gives back.

A report definition names its figures (columns), the groupings it offers (`by`) and a
`compute(user, filters, by, naive)` function. Its result is a table whose every row
carries the drill-down that lists the records behind the row's figures.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from salesplan.core.request_memo import remembered
from salesplan.org.models import Team, User
from salesplan.pipeline.models import Pipeline, PipelineKind, Stage

from ..exporting import Column
from ..scope import ReportFilters

ONE_DECIMAL = Decimal("0.1")


@dataclass
class Row:
    """One line of a report: its values in column order and the drill-down behind it."""

    values: list[Any]
    drill: dict[str, str] | None = None
    emphasis: bool = False  # totals


@dataclass
class ReportResult:
    """A report run: the table, a chart of it and notes that explain the figures."""

    key: str
    title: str
    filters: ReportFilters
    by: str
    columns: list[Column]
    rows: list[Row]
    chart: str | None = None
    chart_label: str = ""
    notes: list[str] = field(default_factory=list)

    def plain_rows(self) -> list[list[Any]]:
        return [row.values for row in self.rows]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip([c.key for c in self.columns], row.values, strict=True))
                for row in self.rows]


@dataclass(frozen=True)
class ReportDefinition:
    """One performance report: key, title, description and how it is computed."""

    key: str
    title: str
    description: str
    compute: Callable[..., ReportResult]
    groupings: tuple[str, ...] = ()
    audience: tuple[str, ...] = ("rep", "manager", "executive", "admin")

    @property
    def default_by(self) -> str:
        return self.groupings[0] if self.groupings else ""


GROUP_LABELS = {"owner": "Owner", "team": "Team", "stage": "Stage", "pipeline": "Pipeline",
                "pipeline_kind": "Pipeline type", "territory": "Territory", "month": "Month",
                "kind": "Type", "source": "Source"}


def percent(part, whole) -> Decimal | None:
    """part / whole as a percentage with one decimal; None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(ONE_DECIMAL, ROUND_HALF_EVEN)


def ratio(part: Decimal, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / whole).quantize(Decimal("0.01"), ROUND_HALF_EVEN)


def change(current, previous) -> Decimal | None:
    """Growth from previous to current in percent (None when previous is zero)."""
    if not previous:
        return None
    return percent(Decimal(current) - Decimal(previous), previous)


class Labels:
    """Names of the ids that appear as groups, read once per report."""

    def __init__(self) -> None:
        self._cache: dict[str, dict] = {}

    def _load(self, kind: str) -> dict:
        if kind not in self._cache:
            # The reports of one page (a dashboard's cards) share the names they read.
            self._cache[kind] = remembered(("report-labels", kind),
                                           lambda: _read_labels(kind))
        return self._cache[kind]

    def name(self, kind: str, value) -> str:
        if kind == "month":
            return value.strftime("%Y-%m")
        found = self._load(kind).get(value)
        return found if found is not None else ("—" if value is None else str(value))


def _read_labels(kind: str) -> dict:
    if kind == "owner":
        # Names straight from the columns: a model object per person, for every person of
        # the company, was most of a report's time.
        return {pk: User.display_name(first, last, username) for pk, first, last, username
                in User.objects.values_list("id", "first_name", "last_name", "username")}
    if kind == "team":
        return dict(Team.objects.values_list("id", "name"))
    if kind == "stage":
        return {s.pk: str(s) for s in Stage.objects.select_related("pipeline")}
    if kind == "pipeline":
        return dict(Pipeline.objects.values_list("id", "name"))
    if kind == "pipeline_kind":
        return dict(PipelineKind.choices)
    if kind == "territory":
        from salesplan.territories.selectors import territory_names

        return {0: "No territory", **territory_names()}
    return {}


def team_of_owner(owner_ids) -> dict[int, int | None]:
    return dict(User.objects.filter(pk__in=list(owner_ids)).values_list("id", "team_id"))


def pipeline_kind_of() -> dict[int, str]:
    return dict(Pipeline.objects.values_list("id", "kind"))
