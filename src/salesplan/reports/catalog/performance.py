"""The performance reports: pipeline, bookings, win rate, deal size, sales cycle,
conversion, funnel, activities, leaderboard, territories, product mix, attainment."""

from collections import defaultdict
from decimal import Decimal
from typing import Any

from salesplan.core.fiscal import CompanyCalendar
from salesplan.metrics import rollup
from salesplan.pipeline.models import Pipeline, Stage, StageKind
from salesplan.ui import charts

from ..exporting import Column
from ..facts import ZERO, Totals, activity_counts, lead_counts, money, opportunity_totals
from ..scope import ReportFilters, previous_period, same_period_last_year
from .base import (
    GROUP_LABELS,
    Labels,
    ReportResult,
    Row,
    change,
    percent,
    pipeline_kind_of,
    ratio,
    team_of_owner,
)

DERIVED = {"team": "owner", "pipeline_kind": "pipeline"}
OPPORTUNITY_GROUPS = ("owner", "team", "territory", "pipeline", "pipeline_kind", "month")


def _mapper(by: str, keys) -> dict:
    if by == "team":
        return team_of_owner(keys)
    if by == "pipeline_kind":
        return pipeline_kind_of()
    return {}


def grouped(user, filters: ReportFilters, by: str, *, basis: str,
            statuses: tuple[str, ...] | None, naive: bool, extra: tuple[str, ...] = (),
            period=None) -> dict[tuple, Totals]:
    """Opportunity totals keyed by (group value, *extra dims), `by` possibly derived
    (team from the owner, pipeline type from the pipeline)."""
    base = DERIVED.get(by, by)
    flt = filters if period is None else filters.shifted(period)
    raw = opportunity_totals(user, flt, basis=basis, dims=(base, *extra), statuses=statuses,
                             naive=naive)
    if by not in DERIVED:
        return raw
    mapping = _mapper(by, {k[0] for k in raw})
    result: dict[tuple, Totals] = defaultdict(Totals)
    for key, totals in raw.items():
        result[(mapping.get(key[0]), *key[1:])] += totals
    return dict(result)


def _sort(keys, by: str, labels: Labels) -> list:
    if by == "month":
        return sorted(keys, key=lambda k: k)
    if by == "stage":
        positions = dict(Stage.objects.values_list("id", "position"))
        return sorted(keys, key=lambda k: (positions.get(k, 0), k))
    return sorted(keys, key=lambda k: labels.name(by, k).lower())


def _drill(by: str, value, **spec) -> dict[str, str]:
    drill = {k: str(v) for k, v in spec.items()}
    if value is not None:
        drill[by] = value.isoformat() if by == "month" else str(value)
    elif by in ("team", "territory"):
        drill[by] = "0"
    return drill


def _amount_chart(title: str, names: list[str], series: dict[str, list]) -> str:
    return charts.bar_chart(names, series, title=title)


# --- pipeline -------------------------------------------------------------------------


def pipeline_report(user, filters: ReportFilters, by: str = "stage",
                    naive: bool = False) -> ReportResult:
    """Open deals expected to close in the period, grouped."""
    by = by or "stage"
    totals = grouped(user, filters, by, basis="close", statuses=(StageKind.OPEN,), naive=naive)
    labels = Labels()
    rows, all_totals = [], Totals()
    for key in _sort({k[0] for k in totals}, by, labels):
        t = totals[(key,)]
        all_totals += t
        rows.append(Row([labels.name(by, key), t.count, t.amount, money(t.weighted)],
                        _drill(by, key, src="opportunity", basis="close", status="open")))
    rows.append(Row(["Total", all_totals.count, all_totals.amount, money(all_totals.weighted)],
                    {"src": "opportunity", "basis": "close", "status": "open"}, emphasis=True))
    names = [r.values[0] for r in rows[:-1]]
    return ReportResult(
        "pipeline", "Pipeline", filters, by,
        [Column("group", GROUP_LABELS.get(by, by)), Column("deals", "Open deals", "int"),
         Column("amount", f"Amount ({filters.currency})", "money"),
         Column("weighted", f"Weighted ({filters.currency})", "money")],
        rows, _amount_chart("Open pipeline", names, {
            "Amount": [r.values[2] for r in rows[:-1]],
            "Weighted": [r.values[3] for r in rows[:-1]]}),
        "Open pipeline by group, amount and weighted amount",
        ["Open deals whose close date falls in the period; weighted by each deal's "
         "probability."])


# --- bookings with comparisons --------------------------------------------------------


def bookings_report(user, filters: ReportFilters, by: str = "owner",
                    naive: bool = False) -> ReportResult:
    """Won deals closing in the period against the previous period and last year."""

    by = by or "owner"
    calendar = CompanyCalendar.current()
    previous = previous_period(filters.period, calendar)
    last_year = same_period_last_year(filters.period, calendar)
    won = (StageKind.WON,)
    now = grouped(user, filters, by, basis="close", statuses=won, naive=naive)
    before = ({} if by == "month" else
              grouped(user, filters, by, basis="close", statuses=won, naive=naive,
                      period=previous))
    # A year's previous period is the same period last year: read its deals once (a
    # third of the executive's report at 1,000,000 accounts).
    year_ago = ({} if by == "month" else before if last_year == previous else
                grouped(user, filters, by, basis="close", statuses=won, naive=naive,
                        period=last_year))
    labels = Labels()
    rows = []
    total: list[Any] = [0, ZERO, ZERO, ZERO]
    for key in _sort({k[0] for k in (*now, *before, *year_ago)}, by, labels):
        t = now.get((key,), Totals())
        p = before.get((key,), Totals()).amount
        y = year_ago.get((key,), Totals()).amount
        total = [total[0] + t.count, total[1] + t.amount, total[2] + p, total[3] + y]
        rows.append(Row([labels.name(by, key), t.count, t.amount, p, change(t.amount, p), y,
                         change(t.amount, y)],
                        _drill(by, key, src="opportunity", basis="close", status="won")))
    rows.append(Row(["Total", total[0], total[1], total[2], change(total[1], total[2]),
                     total[3], change(total[1], total[3])],
                    {"src": "opportunity", "basis": "close", "status": "won"}, emphasis=True))
    body = rows[:-1]
    return ReportResult(
        "bookings", "Bookings", filters, by,
        [Column("group", GROUP_LABELS.get(by, by)), Column("deals", "Deals won", "int"),
         Column("bookings", f"Bookings ({filters.currency})", "money"),
         Column("previous", f"Previous period ({previous.label})", "money"),
         Column("previous_change", "Change vs previous", "percent"),
         Column("last_year", f"Same period last year ({last_year.label})", "money"),
         Column("last_year_change", "Change vs last year", "percent")],
        rows, _amount_chart("Bookings", [r.values[0] for r in body], {
            filters.period.label: [r.values[2] for r in body],
            previous.label: [r.values[3] for r in body],
            last_year.label: [r.values[5] for r in body]}),
        "Bookings this period, the previous period and the same period last year",
        ["Bookings are won deals by close date, in the report currency."])


# --- win rate, deal size, cycle -------------------------------------------------------


def win_rate_report(user, filters: ReportFilters, by: str = "owner",
                    naive: bool = False) -> ReportResult:
    by = by or "owner"
    totals = grouped(user, filters, by, basis="close", statuses=(StageKind.WON, StageKind.LOST),
                     naive=naive, extra=("status",))
    labels = Labels()
    rows = []
    sums = {"won": Totals(), "lost": Totals()}
    for key in _sort({k[0] for k in totals}, by, labels):
        won = totals.get((key, StageKind.WON), Totals())
        lost = totals.get((key, StageKind.LOST), Totals())
        sums["won"] += won
        sums["lost"] += lost
        rows.append(Row(_win_values(labels.name(by, key), won, lost),
                        _drill(by, key, src="opportunity", basis="close", status="won,lost")))
    rows.append(Row(_win_values("Total", sums["won"], sums["lost"]),
                    {"src": "opportunity", "basis": "close", "status": "won,lost"},
                    emphasis=True))
    body = rows[:-1]
    return ReportResult(
        "win_rate", "Win rate", filters, by,
        [Column("group", GROUP_LABELS.get(by, by)), Column("won", "Won", "int"),
         Column("lost", "Lost", "int"), Column("win_rate", "Win rate (deals)", "percent"),
         Column("won_amount", f"Won ({filters.currency})", "money"),
         Column("lost_amount", f"Lost ({filters.currency})", "money"),
         Column("amount_win_rate", "Win rate (amount)", "percent")],
        rows, charts.bar_chart([r.values[0] for r in body],
                               {"Win rate %": [r.values[3] for r in body]},
                               title="Win rate", y_name="%", others=False),
        "Win rate by group, in percent of closed deals",
        ["Closed deals (won or lost) by close date; win rate = won ÷ (won + lost)."])


def _win_values(name: str, won: Totals, lost: Totals) -> list:
    return [name, won.count, lost.count, percent(won.count, won.count + lost.count),
            won.amount, lost.amount, percent(won.amount, won.amount + lost.amount)]


def deal_size_report(user, filters: ReportFilters, by: str = "owner",
                     naive: bool = False) -> ReportResult:

    by = by or "owner"
    previous = previous_period(filters.period, CompanyCalendar.current())
    won = (StageKind.WON,)
    now = grouped(user, filters, by, basis="close", statuses=won, naive=naive)
    before = grouped(user, filters, by, basis="close", statuses=won, naive=naive,
                     period=previous) if by != "month" else {}
    labels = Labels()
    rows = []
    total, total_before = Totals(), Totals()
    for key in _sort({k[0] for k in (*now, *before)}, by, labels):
        t, p = now.get((key,), Totals()), before.get((key,), Totals())
        total += t
        total_before += p
        rows.append(Row([labels.name(by, key), t.count, t.amount, ratio(t.amount, t.count),
                         ratio(p.amount, p.count)],
                        _drill(by, key, src="opportunity", basis="close", status="won")))
    rows.append(Row(["Total", total.count, total.amount, ratio(total.amount, total.count),
                     ratio(total_before.amount, total_before.count)],
                    {"src": "opportunity", "basis": "close", "status": "won"}, emphasis=True))
    body = rows[:-1]
    return ReportResult(
        "deal_size", "Average deal size", filters, by,
        [Column("group", GROUP_LABELS.get(by, by)), Column("deals", "Deals won", "int"),
         Column("bookings", f"Bookings ({filters.currency})", "money"),
         Column("average", f"Average deal ({filters.currency})", "money"),
         Column("previous_average", f"Previous period ({previous.label})", "money")],
        rows, charts.bar_chart([r.values[0] for r in body],
                               {"Average deal": [r.values[3] for r in body]},
                               title="Average deal size", others=False),
        "Average won deal size by group", ["Average = bookings ÷ deals won."])


def sales_cycle_report(user, filters: ReportFilters, by: str = "owner",
                       naive: bool = False) -> ReportResult:
    by = by or "owner"
    totals = grouped(user, filters, by, basis="close", statuses=(StageKind.WON, StageKind.LOST),
                     naive=naive, extra=("status",))
    labels = Labels()
    rows = []
    sums = {"won": Totals(), "lost": Totals()}
    for key in _sort({k[0] for k in totals}, by, labels):
        won = totals.get((key, StageKind.WON), Totals())
        lost = totals.get((key, StageKind.LOST), Totals())
        sums["won"] += won
        sums["lost"] += lost
        rows.append(Row([labels.name(by, key), won.count, ratio(Decimal(won.cycle_days),
                                                                won.count),
                         lost.count, ratio(Decimal(lost.cycle_days), lost.count)],
                        _drill(by, key, src="opportunity", basis="close", status="won,lost")))
    w, lo = sums["won"], sums["lost"]
    rows.append(Row(["Total", w.count, ratio(Decimal(w.cycle_days), w.count), lo.count,
                     ratio(Decimal(lo.cycle_days), lo.count)],
                    {"src": "opportunity", "basis": "close", "status": "won,lost"},
                    emphasis=True))
    body = rows[:-1]
    return ReportResult(
        "sales_cycle", "Sales-cycle length", filters, by,
        [Column("group", GROUP_LABELS.get(by, by)), Column("won", "Deals won", "int"),
         Column("won_days", "Average days to win", "money"),
         Column("lost", "Deals lost", "int"),
         Column("lost_days", "Average days to lose", "money")],
        rows, charts.bar_chart([r.values[0] for r in body],
                               {"Days to win": [r.values[2] for r in body],
                                "Days to lose": [r.values[4] for r in body]},
                               title="Sales-cycle length", y_name="days",
                               others=False),
        "Average sales-cycle length in days by group",
        ["Days from the first recorded stage to the stage change that closed the deal, "
         "for deals closing in the period."])


# --- conversion and funnel ------------------------------------------------------------


def stage_conversion_report(user, filters: ReportFilters, by: str = "",
                            naive: bool = False) -> ReportResult:
    """Of the deals created in the period, how many reached each stage and went on."""
    pipeline = (Pipeline.objects.filter(pk=filters.pipeline_id).first() if filters.pipeline_id
                else Pipeline.objects.filter(active=True).order_by("-is_default",
                                                                   "position").first())
    rows: list[Row] = []
    if pipeline is None:
        return ReportResult("stage_conversion", "Stage conversion", filters, "", [], [],
                            notes=["No pipeline is set up."])
    scoped = filters if filters.pipeline_id else ReportFilters(
        filters.period, filters.team_id, filters.owner_id, filters.territory_id, pipeline.pk,
        filters.currency, filters.labels)
    totals = opportunity_totals(user, scoped, basis="created", dims=("reached", "status"),
                                naive=naive)
    stages = [s for s in pipeline.stages.order_by("position") if s.kind != StageKind.LOST]
    reached_at_least = {
        s.position: sum(t.count for (pos, _), t in totals.items() if pos >= s.position)
        for s in stages}
    created = sum(t.count for t in totals.values())
    won = sum(t.count for (_, status), t in totals.items() if status == StageKind.WON)
    for index, stage in enumerate(stages):
        count = reached_at_least[stage.position]
        following = stages[index + 1] if index + 1 < len(stages) else None
        rows.append(Row([stage.name, count, percent(count, created),
                         percent(reached_at_least[following.position], count)
                         if following else None, percent(won, count)],
                        {"src": "opportunity", "basis": "created", "reached": str(stage.position),
                         "pipeline": str(pipeline.pk)}))
    return ReportResult(
        "stage_conversion", f"Stage conversion: {pipeline.name}", scoped, "",
        [Column("stage", "Stage"), Column("reached", "Deals that reached it", "int"),
         Column("of_created", "Of deals created", "percent"),
         Column("to_next", "Went on to the next stage", "percent"),
         Column("to_won", "Went on to win", "percent")],
        rows, charts.bar_chart([r.values[0] for r in rows],
                               {"Deals": [r.values[1] for r in rows]}, title="Stage reached"),
        "Deals created in the period by the furthest stage they reached",
        [f"{created} deals created in the period in {pipeline.name}; a deal counts for every "
         "stage up to the furthest it reached in its recorded stage history."])


def funnel_report(user, filters: ReportFilters, by: str = "",
                  naive: bool = False) -> ReportResult:
    leads = lead_counts(user, filters, dims=("converted",), naive=naive)
    created = opportunity_totals(user, filters, basis="created", dims=("status",), naive=naive)
    lead_total = sum(leads.values())
    converted = leads.get((True,), 0)
    opportunities = sum(t.count for t in created.values())
    won = created.get((StageKind.WON,), Totals())
    steps = [("Leads created", lead_total, None, {"src": "lead"}),
             ("Leads converted", converted, percent(converted, lead_total),
              {"src": "lead", "converted": "1"}),
             ("Opportunities created", opportunities, None,
              {"src": "opportunity", "basis": "created"}),
             ("Opportunities won", won.count, percent(won.count, opportunities),
              {"src": "opportunity", "basis": "created", "status": "won"})]
    rows = [Row([name, count, rate, won.amount if name == "Opportunities won" else None], drill)
            for name, count, rate, drill in steps]
    return ReportResult(
        "funnel", "Lead to won funnel", filters, "",
        [Column("step", "Step"), Column("count", "Count", "int"),
         Column("rate", "Conversion from the step before", "percent"),
         Column("amount", f"Won amount ({filters.currency})", "money")],
        rows, charts.bar_chart([r.values[0] for r in rows], {"Count": [r.values[1] for r in rows]},
                               title="Funnel"),
        "Leads, conversions, opportunities and wins in the period",
        ["Leads and opportunities created in the period; won counts the opportunities "
         "created in the period that are won now."])


# --- activities, leaderboard ----------------------------------------------------------

ACTIVITY_KINDS = ("call", "meeting", "email", "task", "note")


def activities_report(user, filters: ReportFilters, by: str = "owner",
                      naive: bool = False) -> ReportResult:
    """Done activities per rep by type, with open (not done) ones for comparison."""

    by = "owner" if by not in ("owner", "team") else by
    counts = activity_counts(user, filters, dims=("owner", "kind", "done"), done=None,
                             naive=naive)
    previous = activity_counts(user, filters.shifted(previous_period(
        filters.period, CompanyCalendar.current())), dims=("owner",), done=True, naive=naive)
    mapping = team_of_owner({k[0] for k in counts} | {k[0] for k in previous}) \
        if by == "team" else {}
    table: dict = defaultdict(lambda: defaultdict(int))
    for (owner, kind, done), n in counts.items():
        group = mapping.get(owner) if by == "team" else owner
        table[group][(kind, done)] += n
    before: dict = defaultdict(int)
    for (owner,), n in previous.items():
        before[mapping.get(owner) if by == "team" else owner] += n
    labels = Labels()
    rows = []
    grand = [0] * (len(ACTIVITY_KINDS) + 3)
    for key in _sort(set(table) | set(before), by, labels):
        cells = table.get(key, {})
        kinds = [cells.get((k, True), 0) for k in ACTIVITY_KINDS]
        done = sum(kinds)
        open_count = sum(n for (_, d), n in cells.items() if not d)
        values = [*kinds, done, before.get(key, 0), open_count]
        grand = [a + b for a, b in zip(grand, values, strict=True)]
        rows.append(Row([labels.name(by, key), *values, change(done, before.get(key, 0))],
                        _drill(by, key, src="activity", done="1")))
    rows.append(Row(["Total", *grand, change(grand[-3], grand[-2])],
                    {"src": "activity", "done": "1"}, emphasis=True))
    body = rows[:-1]
    columns = [Column("group", GROUP_LABELS[by])] + [
        Column(k, f"{k.capitalize()}s", "int") for k in ACTIVITY_KINDS] + [
        Column("done", "Done", "int"), Column("previous", "Done, previous period", "int"),
        Column("open", "Planned, not done", "int"),
        Column("change", "Change vs previous", "percent")]
    return ReportResult(
        "activities", "Activity volume and mix", filters, by, columns, rows,
        charts.bar_chart([r.values[0] for r in body],
                         {f"{k.capitalize()}s": [r.values[i + 1] for r in body]
                          for i, k in enumerate(ACTIVITY_KINDS)}, stacked=True,
                         title="Activities done"),
        "Activities done by type and group",
        ["Activities dated in the period (their due or done time), by the owner."])


def leaderboard_report(user, filters: ReportFilters, by: str = "",
                       naive: bool = False) -> ReportResult:
    """Reps ranked by bookings, with win rate, pipeline and activity beside it."""
    closed = opportunity_totals(user, filters, basis="close", dims=("owner", "status"),
                                naive=naive)
    activities = activity_counts(user, filters, dims=("owner",), naive=naive)
    owners = {k[0] for k in closed} | {k[0] for k in activities}
    labels = Labels()
    board = []
    for owner in owners:
        won = closed.get((owner, StageKind.WON), Totals())
        lost = closed.get((owner, StageKind.LOST), Totals())
        pipe = closed.get((owner, StageKind.OPEN), Totals())
        board.append((won.amount, won.count, owner, lost, pipe))
    board.sort(key=lambda b: (-b[0], -b[1], labels.name("owner", b[2]).lower()))
    rows = []
    for rank, (amount, count, owner, lost, pipe) in enumerate(board, start=1):
        rows.append(Row([rank, labels.name("owner", owner), amount, count,
                         percent(count, count + lost.count), pipe.amount,
                         activities.get((owner,), 0)],
                        {"src": "opportunity", "basis": "close", "status": "won",
                         "owner": str(owner)}))
    return ReportResult(
        "leaderboard", "Leaderboard", filters, "",
        [Column("rank", "Rank", "int"), Column("owner", "Rep"),
         Column("bookings", f"Bookings ({filters.currency})", "money"),
         Column("won", "Deals won", "int"), Column("win_rate", "Win rate", "percent"),
         Column("pipeline", f"Open pipeline closing in period ({filters.currency})", "money"),
         Column("activities", "Activities done", "int")],
        rows, charts.bar_chart([r.values[1] for r in rows[:15]],
                               {"Bookings": [r.values[2] for r in rows[:15]]},
                               title="Top bookings", horizontal=True),
        "Reps ranked by bookings", ["Ranked by bookings, then deals won."])


# --- territories, product mix ---------------------------------------------------------


def territory_report(user, filters: ReportFilters, by: str = "",
                     naive: bool = False) -> ReportResult:
    totals = opportunity_totals(user, filters, basis="close", dims=("territory", "status"),
                                naive=naive)
    labels = Labels()
    rows = []
    sums: dict[str, Totals] = defaultdict(Totals)
    for territory in _sort({k[0] for k in totals}, "territory", labels):
        won = totals.get((territory, StageKind.WON), Totals())
        lost = totals.get((territory, StageKind.LOST), Totals())
        pipe = totals.get((territory, StageKind.OPEN), Totals())
        for name, t in (("won", won), ("lost", lost), ("open", pipe)):
            sums[name] += t
        rows.append(Row(_territory_values(labels.name("territory", territory), won, lost, pipe),
                        {"src": "opportunity", "basis": "close", "territory": str(territory)}))
    rows.append(Row(_territory_values("Total", sums["won"], sums["lost"], sums["open"]),
                    {"src": "opportunity", "basis": "close"}, emphasis=True))
    body = rows[:-1]
    return ReportResult(
        "territory", "Territory performance", filters, "territory",
        [Column("territory", "Territory"),
         Column("bookings", f"Bookings ({filters.currency})", "money"),
         Column("won", "Deals won", "int"), Column("win_rate", "Win rate", "percent"),
         Column("pipeline", f"Open pipeline ({filters.currency})", "money"),
         Column("weighted", f"Weighted pipeline ({filters.currency})", "money")],
        rows, charts.bar_chart([r.values[0] for r in body],
                               {"Bookings": [r.values[1] for r in body],
                                "Open pipeline": [r.values[4] for r in body]},
                               title="Territories"),
        "Bookings and open pipeline by territory",
        ["Deals closing in the period, by the geographic territory of their account in "
         "the active territory alignment."] + (
            ["Territories as assigned before the latest assignment run: the report figures "
             "are being rebuilt."] if not naive and _territories_outdated() else []))


def _territories_outdated() -> bool:
    return rollup.territories_outdated()


def _territory_values(name: str, won: Totals, lost: Totals, pipe: Totals) -> list:
    return [name, won.amount, won.count, percent(won.count, won.count + lost.count),
            pipe.amount, money(pipe.weighted)]


def product_mix_report(user, filters: ReportFilters, by: str = "",
                       naive: bool = False) -> ReportResult:
    """Bookings by product from accepted quotes' lines where quotes exist, and by the
    type of sale (the pipeline's kind) for every won deal."""
    from .products import quote_product_mix

    kinds = grouped(user, filters, "pipeline_kind", basis="close", statuses=(StageKind.WON,),
                    naive=naive)
    labels = Labels()
    total = sum((t.amount for t in kinds.values()), ZERO)
    rows = [Row([f"Type of sale: {labels.name('pipeline_kind', k[0])}", t.count, t.amount,
                 percent(t.amount, total)],
                {"src": "opportunity", "basis": "close", "status": "won",
                 "pipeline_kind": str(k[0])})
            for k, t in sorted(kinds.items(), key=lambda kv: -kv[1].amount)]
    products = quote_product_mix(user, filters)
    product_total = sum((p[2] for p in products), ZERO)
    rows += [Row([f"Product: {name}", count, amount, percent(amount, product_total)],
                 {"src": "opportunity", "basis": "close", "status": "won", "product": sku})
             for sku, name, amount, count in products]
    notes = ["Type of sale: won deals closing in the period by their pipeline's kind."]
    notes.append("Products: lines of the accepted quotes of those deals, at their net price."
                 if products else "No accepted quotes with lines on the period's won deals.")
    return ReportResult(
        "product_mix", "Product mix", filters, "",
        [Column("item", "Type of sale / product"), Column("deals", "Deals", "int"),
         Column("amount", f"Amount ({filters.currency})", "money"),
         Column("share", "Share", "percent")],
        rows, charts.pie_chart({r.values[0]: r.values[2] for r in rows}, title="Product mix"),
        "Bookings by type of sale and by product", notes)
