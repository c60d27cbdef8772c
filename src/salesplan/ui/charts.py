"""Chart options for the browser's chart library, built on the server.

A page shows a chart with
    {% include "web/_chart_scripts.html" %}            (once, in the head block)
    <div class="chart" data-chart="{{ option }}" role="img" aria-label="…"></div>
where ``option`` comes from one of the builders below. Figures are for display only:
Decimals become JSON numbers here and nowhere else. Always show the same figures in a
table too, so the page reads without scripts and tests can check the numbers.
"""

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

Number = int | float | Decimal | None
TOP = 12  # bars drawn at most; the rest are summed as "Others"
LABEL_WIDTH = 120  # px for a name beside a horizontal bar; longer ones end in "…"


def _plain(value: Number) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    return value


def _series(kind: str, series: Mapping[str, Sequence[Number]], **extra) -> list[dict]:
    return [
        {"name": name, "type": kind, "data": [_plain(v) for v in values], **extra}
        for name, values in series.items()
    ]


def _frame(categories: Sequence[str], title: str, y_name: str) -> dict[str, Any]:
    return {
        "title": {"text": title, "textStyle": {"fontSize": 14}} if title else {"show": False},
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0},
        "grid": {"left": 60, "right": 20, "top": 40 if title else 15, "bottom": 50},
        "xAxis": {"type": "category", "data": list(categories),
                  "axisLabel": {"hideOverlap": True}},
        "yAxis": {"type": "value", "name": y_name},
    }


def line_chart(categories: Sequence[str], series: Mapping[str, Sequence[Number]], *,
               title: str = "", y_name: str = "") -> str:
    """One line per series over the categories (e.g. months); None leaves a gap."""
    option = _frame(categories, title, y_name)
    option["series"] = _series("line", series, connectNulls=False)
    return json.dumps(option)


def _top(categories: Sequence[str], series: Mapping[str, Sequence[Number]], top: int,
         others: bool) -> tuple[list[str], dict[str, list[Number]], str]:
    """The `top` categories by their total across the series, largest first; the rest
    added up as one "Others" category when the figures add up (amounts, counts), left out
    when they do not (rates, averages). Also the note for the title ("top 12 of 45")."""
    if len(categories) <= top:
        return list(categories), {k: list(v) for k, v in series.items()}, ""

    def weight(i: int) -> float:
        return sum(abs(float(_plain(values[i]) or 0)) for values in series.values())

    order = sorted(range(len(categories)), key=lambda i: (-weight(i), i))
    kept, rest = order[:top], order[top:]
    names = [categories[i] for i in kept]
    shown = {k: [v[i] for i in kept] for k, v in series.items()}
    if others:
        names.append(f"Others ({len(rest)})")
        for k, v in series.items():
            shown[k].append(sum((Decimal(str(_plain(v[i]) or 0)) for i in rest), Decimal(0)))
    return names, shown, f"top {top} of {len(categories)}"


def bar_chart(categories: Sequence[str], series: Mapping[str, Sequence[Number]], *,
              title: str = "", y_name: str = "", stacked: bool = False,
              horizontal: bool | None = None, top: int = TOP, others: bool = True) -> str:
    """Grouped (or stacked) bars per category. Past `top` categories only the largest
    are drawn, with the rest as "Others" (`others=False` for rates and averages, which do
    not add up). Many or long names turn the bars on their side, names down the left,
    so every name is written out; set `horizontal` to choose."""
    categories, series, note = _top(categories, series, top, others)
    if note:
        title = f"{title} ({note})" if title else note.capitalize()
    option = _frame(categories, title, y_name)
    extra = {"stack": "total"} if stacked else {}
    option["series"] = _series("bar", series, **extra)
    if horizontal is None:
        longest = max((len(str(c)) for c in categories), default=0)
        horizontal = len(categories) * max(longest, 4) > 60
    if horizontal:
        option["xAxis"], option["yAxis"] = option["yAxis"], option["xAxis"]
        option["yAxis"]["inverse"] = True  # the first (largest) at the top
        option["yAxis"]["axisLabel"] = {"interval": 0, "width": LABEL_WIDTH,
                                        "overflow": "truncate"}
        option["grid"]["left"] = LABEL_WIDTH + 12
        option["grid"]["right"] = 30
    return json.dumps(option)


def scatter_chart(points: Mapping[str, Sequence[tuple[Number, Number]]], *, title: str = "",
                  x_name: str = "", y_name: str = "") -> str:
    """Points per series, e.g. stated probability against observed win rate."""
    option: dict[str, Any] = {
        "title": {"text": title, "textStyle": {"fontSize": 14}} if title else {"show": False},
        "tooltip": {"trigger": "item"},
        "legend": {"bottom": 0},
        "xAxis": {"type": "value", "name": x_name},
        "yAxis": {"type": "value", "name": y_name},
        "series": [
            {"name": name, "type": "scatter",
             "data": [[_plain(x), _plain(y)] for x, y in values]}
            for name, values in points.items()
        ],
    }
    return json.dumps(option)


def curve_chart(lines: Mapping[str, Sequence[tuple[Number, Number]]],
                points: Mapping[str, Sequence[tuple[Number, Number]]], *, title: str = "",
                x_name: str = "", y_name: str = "",
                marks: Mapping[str, Number] | None = None,
                dashed: Sequence[str] = ()) -> str:
    """Smooth lines and data points on one true (linear) x scale, e.g. a response curve
    over calls with the observed means beside it; `marks` draws labelled vertical lines
    (the most effort observed); series named in `dashed` are drawn dashed."""
    series: list[dict[str, Any]] = [
        {"name": name, "type": "line", "showSymbol": False, "smooth": False,
         "lineStyle": {"type": "dashed"} if name in dashed else {},
         "data": [[_plain(x), _plain(y)] for x, y in values]}
        for name, values in lines.items()
    ] + [
        {"name": name, "type": "scatter", "data": [[_plain(x), _plain(y)] for x, y in values]}
        for name, values in points.items()
    ]
    if marks and series:
        series[0]["markLine"] = {"symbol": "none", "label": {"formatter": "{b}"},
                                 "data": [{"name": name, "xAxis": _plain(x)}
                                          for name, x in marks.items()]}
    option: dict[str, Any] = {
        "title": {"text": title, "textStyle": {"fontSize": 14}} if title else {"show": False},
        "tooltip": {"trigger": "item"},
        "legend": {"bottom": 0},
        "grid": {"left": 60, "right": 20, "top": 40 if title else 15, "bottom": 50},
        "xAxis": {"type": "value", "name": x_name, "min": 0},
        "yAxis": {"type": "value", "name": y_name},
        "series": series,
    }
    return json.dumps(option)


def pie_chart(slices: Mapping[str, Number], *, title: str = "") -> str:
    option = {
        "title": {"text": title, "textStyle": {"fontSize": 14}} if title else {"show": False},
        "tooltip": {"trigger": "item"},
        "legend": {"bottom": 0},
        "series": [{"type": "pie", "radius": ["35%", "65%"],
                    "data": [{"name": k, "value": _plain(v)} for k, v in slices.items()]}],
    }
    return json.dumps(option)
