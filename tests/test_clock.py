"""The company's clock: "today" is the company's day in every entry point, including the
hours where UTC's date and the company's differ (the evening in the Americas is already
tomorrow in UTC; the early morning in Asia is still yesterday)."""

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.utils import timezone

from salesplan.core.clock import (
    as_company_aware,
    company_datetime,
    company_now,
    company_today,
    forget_company_time_zone,
)
from salesplan.org.models import Company
from salesplan.pipeline.services import create_opportunity
from tests.factories import make_account

pytestmark = pytest.mark.django_db

# 00:30 UTC on 7 December is 18:30 on 6 December in Chicago and 09:30 on 7 December in
# Tokyo; 23:30 UTC on 6 December is already 7 December in Tokyo.
INSTANTS = [
    (datetime(2026, 12, 7, 0, 30, tzinfo=UTC), "America/Chicago", date(2026, 12, 6)),
    (datetime(2026, 12, 7, 5, 59, tzinfo=UTC), "America/Los_Angeles", date(2026, 12, 6)),
    (datetime(2026, 12, 6, 23, 30, tzinfo=UTC), "Asia/Tokyo", date(2026, 12, 7)),
    (datetime(2026, 12, 7, 12, 0, tzinfo=UTC), "America/Chicago", date(2026, 12, 7)),
]


def _set_zone(name: str) -> None:
    company = Company.current()
    company.time_zone = name
    company.save()


@pytest.mark.parametrize(("instant", "zone", "day"), INSTANTS)
def test_today_is_the_company_day_outside_any_request(instant, zone, day):
    _set_zone(zone)
    timezone.deactivate()  # as in a console command, a job or the demo
    with time_machine.travel(instant, tick=False):
        assert company_today() == day
        assert company_now().date() == day
        assert company_now().tzinfo.key == zone  # type: ignore[union-attr]


def test_saving_the_company_changes_the_clock_at_once():
    _set_zone("UTC")
    with time_machine.travel(INSTANTS[0][0], tick=False):
        assert company_today() == date(2026, 12, 7)
        _set_zone("America/Chicago")  # no waiting for the remembered zone to expire
        assert company_today() == date(2026, 12, 6)


def test_a_deal_created_in_the_american_evening_closes_on_the_company_day(org):
    _set_zone("America/Chicago")
    account = make_account(org.west_rep)
    with time_machine.travel(INSTANTS[0][0], tick=False):
        deal = create_opportunity(by=org.west_rep, data={"name": "Evening deal",
                                                         "account": account})
    assert deal.close_date == date(2026, 12, 6)


def test_a_time_typed_without_a_zone_is_read_on_the_company_clock():
    _set_zone("America/Chicago")
    typed = as_company_aware(datetime(2026, 12, 6, 18, 30))
    assert typed == datetime(2026, 12, 7, 0, 30, tzinfo=UTC)
    assert company_datetime(date(2026, 12, 6), time(9)) == datetime(2026, 12, 6, 15, 0,
                                                                    tzinfo=UTC)


def test_an_unknown_zone_name_falls_back_to_utc():
    Company.objects.update_or_create(pk=Company.current().pk,
                                     defaults={"time_zone": "Mars/Olympus"})
    forget_company_time_zone()
    with time_machine.travel(INSTANTS[0][0], tick=False):
        assert company_today() == date(2026, 12, 7)
