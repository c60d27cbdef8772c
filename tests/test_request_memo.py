"""Settings read once per page: the same answer everywhere in a request, a fresh one in
the next request and after a change."""

import pytest

from salesplan.core.fiscal import CompanyCalendar
from salesplan.core.request_memo import remembered, request_scope
from salesplan.org.models import Company, Holiday

pytestmark = pytest.mark.django_db


def test_a_value_is_computed_once_per_request_and_every_time_outside_one():
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert remembered("k", compute) == 1
    assert remembered("k", compute) == 2  # no request: computed each time
    with request_scope():
        assert remembered("k", compute) == 3
        assert remembered("k", compute) == 3
        with request_scope():  # a nested scope shares the request's values
            assert remembered("k", compute) == 3
    with request_scope():  # the next request computes afresh
        assert remembered("k", compute) == 4


def test_the_company_is_read_once_per_request(django_assert_num_queries):
    Company.current()
    with request_scope():
        with django_assert_num_queries(2):  # the company, its holidays
            for _ in range(5):
                Company.current()
                CompanyCalendar.current()


def test_a_change_within_the_request_is_read_afresh():
    company = Company.current()
    with request_scope():
        assert CompanyCalendar.current().holidays == frozenset()
        Holiday.objects.create(company=company, date="2026-12-25", name="Christmas")
        assert [str(d) for d in CompanyCalendar.current().holidays] == ["2026-12-25"]
        company.fiscal_year_start_month = 4
        company.save()
        assert Company.current().fiscal_year_start_month == 4
        assert CompanyCalendar.current().start_month == 4


def test_a_change_by_another_process_is_seen_by_the_next_request(client, django_user_model):
    company = Company.current()
    with request_scope():
        assert Company.current().name == company.name
    Company.objects.filter(pk=company.pk).update(name="Renamed elsewhere")
    with request_scope():
        assert Company.current().name == "Renamed elsewhere"


def test_logging_a_call_reads_the_reps_territory_accounts_once(client, org):
    """A rep logging a call on a deal of their territory (not their own) is checked for
    the deal, its account and the refreshed panel: the territory's accounts are read once
    for all three, and the call is logged."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from salesplan.activities.models import Activity
    from tests.factories import give_territory_account, make_account, make_opportunity

    account = make_account(org.east_rep)  # another team's account, in the rep's territory
    give_territory_account(org.west_rep, account)
    deal = make_opportunity(org.east_rep, account)
    client.force_login(org.west_rep)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/log/opportunity/{deal.pk}/", {
            "kind": "call", "subject": "Territory call", "done": "on",
            "duration_minutes": "10", "outcome": "", "description": ""},
            HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Territory call" in response.content.decode()
    assert Activity.objects.filter(opportunity=deal, subject="Territory call",
                                   owner=org.west_rep).count() == 1
    assert sum("territories_accountterritory" in q["sql"] for q in queries) == 1
