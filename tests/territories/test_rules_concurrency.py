"""Rules added to one territory at the same moment, by two requests (threads here, server
processes in production): both are kept, each with its own position."""

import threading

import pytest
from django.db import connection

from salesplan.territories import services
from salesplan.territories.models import BoundaryRule

RULES = 4


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite runs one writer at a time")
@pytest.mark.django_db(transaction=True)
def test_rules_added_at_once_to_one_territory_are_all_kept_in_order(org):
    alignment = services.create_alignment(by=org.admin, name="FY")
    west = services.create_territory(alignment, by=org.admin, data={"name": "West"})
    start = threading.Barrier(RULES)
    failures: list[BaseException] = []

    def add(state: str) -> None:
        try:
            start.wait()
            services.create_rule(west, by=org.admin, conditions=[
                {"field": "state", "op": "in", "values": [state]}])
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(state,))
               for state in ("CA", "OR", "WA", "NV")[:RULES]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(BoundaryRule.objects.filter(territory=west).values_list(
        "position", flat=True)) == list(range(1, RULES + 1))
