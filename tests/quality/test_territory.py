"""Territory-boundary violations in quality control come from the territories app, and
their fix (give the record to the territory's owner) is for managers."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from salesplan.core.clock import company_today
from salesplan.customers.models import Account
from salesplan.quality.selectors import territory_items
from salesplan.quality.services import apply_fix

from ..factories import make_account
from ..territories.conftest import active_map, territory_map  # noqa: F401 - fixtures


def test_violations_listed_and_fixed_by_a_manager(org, active_map, api_as):  # noqa: F811
    misplaced = make_account(org.east_rep, name="Misplaced", postal_code="94105")
    from salesplan.territories.assignment import run_full_assignment

    run_full_assignment(active_map.alignment)
    names = {row["name"] for row in territory_items(org.east_rep)}
    assert "Misplaced" in names and "Bay Co" not in names
    listed = api_as(org.east_manager).get("/quality/territory-violations")
    assert listed.status_code == 200
    assert misplaced.pk in {row["record_id"] for row in listed.data}
    with pytest.raises(PermissionDenied):
        apply_fix("territory_violation", misplaced.pk, by=org.east_rep,
                  data={"kind": "account"})
    assert Account.objects.get(pk=misplaced.pk).owner == org.east_rep
    client = Client()
    client.force_login(org.admin)
    page = client.get(reverse("web:quality:territory"))
    assert "Give to" in page.content.decode()
    response = client.post(reverse("web:quality:fix", args=["territory_violation", misplaced.pk]),
                           {"kind": "account"}, headers={"HX-Request": "true"})
    assert "Fixed" in response.content.decode()
    assert Account.objects.get(pk=misplaced.pk).owner == org.west_rep


def test_a_rep_sees_the_issues_of_their_territory_accounts_counted_and_listed(
        org, active_map):  # noqa: F811
    from datetime import timedelta

    from salesplan.quality import checks as qc
    from salesplan.quality import selectors

    from ..factories import make_opportunity

    bay, nyc = Account.objects.get(name="Bay Co"), Account.objects.get(name="Manhattan Co")
    past = company_today() - timedelta(days=20)
    own_outside = make_opportunity(org.west_rep, nyc, name="Own, NYC", close_date=past)
    colleagues = make_opportunity(org.admin, bay, name="Admin's, Bay",
                                  close_date=past - timedelta(days=5))
    make_opportunity(org.admin, nyc, name="Admin's, NYC", close_date=past)  # not the rep's
    ctx = qc.Context.current()
    counts = {c.check.key: (c.count, c.capped) for c in selectors.check_counts(org.west_rep, ctx)}
    assert counts["past_close_date"] == (2, False)
    together, rows, _ = selectors.overview_counts(org.west_rep, ctx)
    assert {c.check.key: (c.count, c.capped) for c in together} == counts
    # The table per owner holds the rep's own issues only.
    assert [(r["owner"], r["counts"].get("past_close_date")) for r in rows] == [
        (org.west_rep, 1)]
    assert rows == selectors.counts_by_owner(org.west_rep, ctx)[0]
    page, items = selectors.check_page(org.west_rep, qc.CHECKS["past_close_date"], limit=1,
                                       ctx=ctx)
    assert [i.record_id for i in items] == [colleagues.pk]
    _page, items = selectors.check_page(org.west_rep, qc.CHECKS["past_close_date"], limit=1,
                                        cursor=page.next_cursor, ctx=ctx)
    assert [i.record_id for i in items] == [own_outside.pk]
