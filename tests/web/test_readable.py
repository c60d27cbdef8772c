"""Figures as people read them: money with its currency and grouped digits, counts with
the right noun, codes as words, and charts that keep to the names they can show."""

import json
from decimal import Decimal

from salesplan.core.templatetags.readable import cell, counted, label, money, plain_number
from salesplan.ui.charts import bar_chart


def test_money_counts_and_codes_read_as_words():
    assert money(Decimal("5510035.02"), "USD") == "USD 5,510,035.02"
    assert money(None, "USD") == "—"
    assert plain_number(Decimal("949.0000")) == "949"
    assert cell(Decimal("5510035.02")) == "5,510,035.02" and cell(Decimal("949.0000")) == "949"
    assert cell(Decimal("1200.00")) == "1,200.00" and cell(1204) == "1,204"
    assert counted(1, "lead") == "1 lead" and counted(2, "lead") == "2 leads"
    assert counted(1204, "opportunity,opportunities") == "1,204 opportunities"
    assert label("mid_market") == "Mid-market"
    assert label("territory_assignment") == "Territory assignment"
    assert label("bookings · team · rep") == "Bookings · team · rep"


def test_a_chart_of_many_reps_shows_the_top_ones_and_the_others_added_up():
    names = [f"Rep {i}" for i in range(45)]
    option = json.loads(bar_chart(names, {"Bookings": list(range(45))}, title="Bookings"))
    shown = option["yAxis"]["data"]  # 45 names: bars on their side, every name written
    assert shown[0] == "Rep 44" and len(shown) == 13 and shown[-1] == "Others (33)"
    assert option["series"][0]["data"][-1] == sum(range(33))
    assert option["title"]["text"] == "Bookings (top 12 of 45)"
    rates = json.loads(bar_chart(names, {"Win rate": list(range(45))}, others=False))
    assert len(rates["yAxis"]["data"]) == 12  # rates do not add up: no "Others"
