"""Full runs replace one alignment's results in bulk; re-assignment after a rule change
agrees with a full run however many accounts it touches."""

import pytest
from django.db import IntegrityError, connection, transaction
from hypothesis import given, settings

from salesplan.customers.models import Account
from salesplan.engines.territory_rules import (
    AccountColumns,
    BulkMatcher,
    BulkOutcome,
    assign_naively,
)
from salesplan.territories import assignment, bulk_write, services
from salesplan.territories.assignment import run_full_assignment
from salesplan.territories.models import AccountTerritory, AssignmentConflict

from ..engines.test_territory_rules import accounts, named_sets, rule_sets
from ..factories import make_account
from .conftest import build_map

CODES = ("94107", "94301", "10013", "10500", "10999", "73301", "94016", "10201")


def results(alignment) -> set[tuple]:
    return set(AccountTerritory.objects.filter(alignment=alignment)
               .values_list("account_id", "territory__name", "type", "reason"))


def rows_with_ids(alignment) -> set[tuple]:
    return set(AccountTerritory.objects.filter(alignment=alignment)
               .values_list("id", "account_id", "territory_id", "type", "reason"))


# A full run writes either into a fresh table swapped in or into the live table,
# depending on how many rows the other alignments hold; both must behave the same.
@pytest.fixture
def fresh_table(request, monkeypatch) -> bool:
    monkeypatch.setattr(bulk_write, "_swap_is_cheaper", lambda *args: request.param)
    return request.param


@pytest.mark.parametrize("fresh_table", [True, False], indirect=True,
                         ids=["fresh table", "live table"])
def test_full_run_leaves_other_alignments_results_untouched(org, territory_map, fresh_table):
    for code in CODES:
        make_account(org.admin, postal_code=code)
    draft = build_map(org, name="FY28").alignment
    run_full_assignment(territory_map.alignment)
    run_full_assignment(draft)
    kept = rows_with_ids(draft)
    highest = max(row[0] for row in kept)
    services.update_rule(territory_map.east.rules.get(), by=org.admin, conditions=[
        {"field": "postal_code", "op": "range", "values": ["10000", "10999"]}])
    run_full_assignment(territory_map.alignment)
    assert rows_with_ids(draft) == kept
    renewed = rows_with_ids(territory_map.alignment)
    assert len(renewed) == 7 and min(row[0] for row in renewed) > highest
    assert ("postal code 10000–10999 in rule 1 of East"
            in {row[4] for row in renewed})


@pytest.mark.parametrize("fresh_table", [True, False], indirect=True,
                         ids=["fresh table", "live table"])
def test_full_run_failing_while_writing_keeps_the_old_results(org, territory_map, fresh_table,
                                                              monkeypatch):
    for code in CODES:
        make_account(org.admin, postal_code=code)
    run_full_assignment(territory_map.alignment)
    before = rows_with_ids(territory_map.alignment)

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(bulk_write, "_write", fail)
    with pytest.raises(RuntimeError):
        run_full_assignment(territory_map.alignment)
    assert rows_with_ids(territory_map.alignment) == before


@pytest.mark.parametrize("fresh_table", [True, False], indirect=True,
                         ids=["fresh table", "live table"])
def test_full_run_keeps_the_results_table_constraints_and_indexes(org, territory_map,
                                                                  fresh_table):
    make_account(org.admin, postal_code="94107")
    with connection.cursor() as cursor:
        before = connection.introspection.get_constraints(
            cursor, AccountTerritory._meta.db_table)
    run_full_assignment(territory_map.alignment)
    run_full_assignment(territory_map.alignment)
    with connection.cursor() as cursor:
        after = connection.introspection.get_constraints(cursor, AccountTerritory._meta.db_table)
    assert {name: (c["columns"], c["unique"], c["primary_key"]) for name, c in after.items()} == {
        name: (c["columns"], c["unique"], c["primary_key"]) for name, c in before.items()}
    row = AccountTerritory.objects.get(alignment=territory_map.alignment)
    with pytest.raises(IntegrityError), transaction.atomic():
        AccountTerritory.objects.create(account_id=row.account_id, alignment=row.alignment,
                                        territory=row.territory, type=row.type, reason="again")


@pytest.mark.parametrize("small_batch", [0, 2_000], ids=["in bulk", "one by one"])
def test_reassignment_after_a_rule_change_matches_a_full_run(org, territory_map, monkeypatch,
                                                             small_batch):
    monkeypatch.setattr(assignment, "SMALL_BATCH", small_batch)
    for code in CODES:
        make_account(org.admin, postal_code=code)
    services.create_rule(territory_map.region, by=org.admin, conditions=[
        {"field": "state", "values": ["CA"]}])
    run_full_assignment(territory_map.alignment)
    services.update_rule(territory_map.east.rules.get(), by=org.admin, conditions=[
        {"field": "postal_code", "op": "prefix", "values": ["10", "733"]}])
    incremental = results(territory_map.alignment)
    incremental_conflicts = set(AssignmentConflict.objects.values_list("account_id", "type"))
    run_full_assignment(territory_map.alignment)
    assert results(territory_map.alignment) == incremental
    assert set(AssignmentConflict.objects.values_list("account_id", "type")) == (
        incremental_conflicts)
    texas = Account.objects.get(postal_code="73301")
    assert (texas.pk, "East", "geographic", "postal code 10* or 733* in rule 1 of East") in (
        incremental)


def test_rule_change_finds_accounts_whose_postal_code_has_stray_spaces(org, territory_map):
    account = make_account(org.admin, postal_code="10500")
    Account.objects.filter(pk=account.pk).update(postal_code=" 10500 ")
    run_full_assignment(territory_map.alignment)
    assert results(territory_map.alignment) == set()
    services.update_rule(territory_map.east.rules.get(), by=org.admin, conditions=[
        {"field": "postal_code", "op": "prefix", "values": ["105"]}])
    assert results(territory_map.alignment) == {
        (account.pk, "East", "geographic", "postal code 105* in rule 1 of East")}


def _sorted(outcome):
    return sorted(outcome.assignments), sorted(outcome.conflicts), sorted(outcome.unclaimed)


@settings(max_examples=100, deadline=None)
@given(rules=rule_sets(), raw_accounts=accounts, named=named_sets)
def test_bulk_matcher_without_packed_sort_keys_matches_naive_engine(rules, raw_accounts, named):
    # Maps too large to pack a claim into one integer take the general path.
    account_list = [(i, *f[1:]) for i, f in enumerate(raw_accounts)]
    matcher = BulkMatcher(rules, named)
    matcher._packed_claims = lambda *args: None  # type: ignore[method-assign]
    bulk = matcher.assign(AccountColumns.from_facts(account_list))
    assert _sorted(bulk.to_outcome()) == _sorted(assign_naively(rules, named, account_list))


@pytest.mark.parametrize("values", [["1099"], ["99", "10995"]])
def test_rule_change_finds_accounts_under_prefixes_ending_in_nine(org, territory_map, values):
    account = make_account(org.admin, postal_code="10995")
    run_full_assignment(territory_map.alignment)
    services.update_rule(territory_map.east.rules.get(), by=org.admin, conditions=[
        {"field": "postal_code", "op": "prefix", "values": values}])
    assert {row[1] for row in results(territory_map.alignment) if row[0] == account.pk} == {
        "East"}


@pytest.mark.parametrize("fresh_table", [True, False], indirect=True,
                         ids=["fresh table", "live table"])
def test_full_run_keeps_reasons_with_tabs_backslashes_and_line_breaks(org, territory_map,
                                                                     fresh_table):
    # PostgreSQL receives the rows as COPY text, where these characters mean something.
    account = make_account(org.admin, postal_code="94107")
    territory_map.west.name = "West\\Coast\tNorth\nBay\r"
    territory_map.west.save(update_fields=["name"])
    territory_map.alignment.refresh_from_db()
    services.update_rule(territory_map.west.rules.get(), by=org.admin, conditions=[
        {"field": "postal_code", "op": "prefix", "values": ["94"]}])
    run_full_assignment(territory_map.alignment)
    assert results(territory_map.alignment) == {
        (account.pk, "West\\Coast\tNorth\nBay\r", "geographic",
         "postal code 94* in rule 1 of West\\Coast\tNorth\nBay\r")}


@pytest.mark.parametrize("fresh_table", [True, False], indirect=True,
                         ids=["fresh table", "live table"])
def test_results_sharing_a_reason_across_territories_are_written_as_given(
        org, territory_map, fresh_table):
    # The matcher gives each rule its own reasons; an outcome where one reason stands for
    # two territories and two types is written row by row, unchanged.
    import numpy as np

    first, second = make_account(org.admin), make_account(org.admin)
    out = BulkOutcome(np.array([first.pk, second.pk, second.pk]),
                      np.array([territory_map.west.pk, territory_map.east.pk,
                                territory_map.region.pk]),
                      np.array([0, 0, 1]), np.array([0, 0, 0]),
                      ["geographic", "overlay"], ["shared reason"], [], [])
    with transaction.atomic():
        bulk_write.replace_alignment_results(territory_map.alignment.pk, out)
    assert results(territory_map.alignment) == {
        (first.pk, "West", "geographic", "shared reason"),
        (second.pk, "East", "geographic", "shared reason"),
        (second.pk, "US", "overlay", "shared reason")}


def _partition_rows(table: str) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text, COUNT(*) FROM {table} "  # noqa: S608
                       "GROUP BY 1")
        return dict(cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="results are partitioned by alignment on PostgreSQL only")
def test_full_run_puts_the_alignment_in_its_own_partition_beside_the_others(org, territory_map):
    # A full run builds only its alignment's partition; results written before it (the
    # default partition) and other alignments' partitions read back the same.
    for code in CODES:
        make_account(org.admin, postal_code=code)
    table = AccountTerritory._meta.db_table
    draft = build_map(org, name="FY28").alignment
    run_full_assignment(draft)
    account = Account.objects.get(postal_code="94107")
    manual = AccountTerritory.objects.create(  # a row the live table takes, not a full run
        account=account, alignment=territory_map.alignment, territory=territory_map.west,
        type="geographic", reason="by hand")
    drafted = rows_with_ids(draft)
    assert len(drafted) == 5
    assert _partition_rows(table) == {f"{table}_{draft.pk}": 5, f"{table}_default": 1}
    run_full_assignment(territory_map.alignment)
    run_full_assignment(territory_map.alignment)
    assert _partition_rows(table) == {f"{table}_{draft.pk}": 5,
                                      f"{table}_{territory_map.alignment.pk}": 5}
    assert rows_with_ids(draft) == drafted
    assert results(territory_map.alignment) == results(draft)  # the same map twice
    assert min(row[0] for row in rows_with_ids(territory_map.alignment)) > manual.pk
    # Later writes through the table land in the alignment's partition.
    services.update_rule(territory_map.east.rules.get(), by=org.admin, conditions=[
        {"field": "postal_code", "op": "range", "values": ["10000", "10999"]}])
    incremental = results(territory_map.alignment)
    run_full_assignment(territory_map.alignment)
    assert results(territory_map.alignment) == incremental
    assert _partition_rows(table)[f"{table}_{territory_map.alignment.pk}"] == len(incremental)
    # A deleted alignment takes its partition with it.
    draft_partition = f"{table}_{draft.pk}"
    draft.territories.update(parent=None)
    draft.delete()
    assert set(_partition_rows(table)) == {f"{table}_{territory_map.alignment.pk}"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [draft_partition])
        assert cursor.fetchone() == (None,)
