"""The rollups give exactly the numbers of grouping the source tables, also after
changes, moves between stages, owner changes and deletions made through the services."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesplan.activities import services as activity_services
from salesplan.metrics import rollup
from salesplan.metrics.models import OpportunityFact, OpportunityLine
from salesplan.pipeline import services as pipeline_services
from salesplan.pipeline.models import Opportunity, Pipeline
from salesplan.reports.facts import activity_counts, lead_counts, opportunity_totals
from salesplan.reports.scope import parse_filters

from ..factories import make_activity, make_lead
from .conftest import deal

DIMS = {"close": [("owner",), ("stage", "status"), ("territory", "month"),
                  ("owner", "status", "month")],
        "created": [("owner", "status"), ("pipeline", "reached"), ("territory", "month")]}


def _same(user, filters):
    for basis, groupings in DIMS.items():
        for dims in groupings:
            fast = opportunity_totals(user, filters, basis=basis, dims=dims)
            naive = opportunity_totals(user, filters, basis=basis, dims=dims, naive=True)
            assert fast == naive, (basis, dims)
    assert (activity_counts(user, filters, dims=("owner", "kind", "done"), done=None)
            == activity_counts(user, filters, dims=("owner", "kind", "done"), done=None,
                               naive=True))
    assert (lead_counts(user, filters, dims=("owner", "converted"))
            == lead_counts(user, filters, dims=("owner", "converted"), naive=True))


def _lines_agree(names=("opportunities", "activities", "leads")) -> None:
    """The lines the rebuild made in SQL are those computed record by record."""
    ctx = rollup.Context()
    for name in names:
        r = rollup.ROLLUPS[name]
        ids = list(r.source._default_manager.values_list("pk", flat=True))
        assert rollup._stored_lines(r, ids) == r.read_lines({"pk__in": ids}, ctx), name


deal_specs = st.lists(st.tuples(
    st.integers(0, 2),                                   # owner
    st.integers(0, 1),                                   # pipeline
    st.sampled_from(["open", "won", "lost"]),
    st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2),
    st.integers(0, 400),                                 # close date offset
    st.integers(0, 400),                                 # created offset (hours * 24)
    st.integers(0, 3),                                   # recorded stage moves
), min_size=1, max_size=25)


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=deal_specs)
def test_rollup_equals_naive_on_random_deals(org, specs):
    Opportunity.objects.all().delete()
    owners = [org.west_rep, org.west_rep2, org.east_rep]
    pipelines = list(Pipeline.objects.order_by("position")[:2])
    start = date(2025, 11, 1)
    for owner, pipe, kind, amount, close, created, moves in specs:
        pipeline = pipelines[pipe]
        opens = list(pipeline.stages.filter(kind="open").order_by("position"))
        when = datetime(2025, 10, 1, 23, 30, tzinfo=UTC) + timedelta(days=created)
        history = [(opens[min(i, len(opens) - 1)].position, when + timedelta(days=3 * i))
                   for i in range(moves)]
        if kind != "open" and moves:
            closed = pipeline.stages.get(kind=kind).position
            history.append((closed, when + timedelta(days=3 * moves + 1)))
        deal(owners[owner], str(amount), start + timedelta(days=close), kind=kind,
             created=when, pipeline=pipeline, history=history)
    rollup.rebuild(["opportunities"])
    _lines_agree(["opportunities"])
    for period in ("FY2026", "FY2026-Q1", "FY2025-M12"):
        for user in (org.west_rep, org.west_manager, org.executive):
            _same(user, parse_filters({"period": period}))
    # Lines and facts agree with each other too.
    assert (sum(f.count for f in OpportunityFact.objects.filter(basis="close"))
            == OpportunityLine.objects.count() == Opportunity.objects.count())


def test_incremental_refresh_follows_changes_and_deletions(org, history):
    filters = parse_filters({"period": "FY2026"})
    _same(org.executive, filters)  # builds the rollups
    _lines_agree()
    rep = org.west_rep
    pipeline = Pipeline.objects.get(is_default=True)
    # A move to won, an amount and close-date edit, an owner change, a deletion.
    pipeline_services.move_opportunity(history.open_west, pipeline.stages.get(kind="won"),
                                       by=org.admin)
    pipeline_services.update_opportunity(history.won_east, by=org.admin, data={
        "amount": Decimal("7500.50"), "close_date": date(2026, 4, 2)})
    pipeline_services.update_opportunity(history.won_west2, by=org.admin,
                                         data={"owner": org.east_rep})
    pipeline_services.delete_opportunity(history.lost_west, by=org.admin)
    new = pipeline_services.create_opportunity(by=rep, data={
        "name": "New", "account": history.won_west_feb.account, "amount": Decimal("123.45"),
        "close_date": date(2026, 3, 9)})
    # An activity deleted by cascade with its opportunity, one marked done, a new lead.
    doomed = pipeline_services.create_opportunity(by=rep, data={
        "name": "Doomed", "account": history.won_west_feb.account, "close_date": date(2026, 3, 1)})
    make_activity(rep, opportunity=doomed, due_at=datetime(2026, 3, 1, tzinfo=UTC))
    _same(org.executive, filters)
    pipeline_services.delete_opportunity(doomed, by=org.admin)
    planned = make_activity(rep, history.won_west_feb.account, done=False,
                            due_at=datetime(2026, 3, 2, tzinfo=UTC))
    _same(org.executive, filters)
    activity_services.update_activity(planned, by=rep, data={"done": True})
    make_lead(rep)
    for user in (org.west_rep, org.east_rep, org.west_manager, org.executive):
        _same(user, filters)
    won = opportunity_totals(org.west_rep, filters, basis="close", dims=("status",))
    # 1,000 + 3,000 + the open 2,000 now won; the new deal is open.
    assert won[("won",)].amount == Decimal("6000.00")
    assert won[("open",)].amount == new.amount
    assert ("lost",) not in won


def test_audit_entries_committed_late_are_not_missed(org):
    """On PostgreSQL a transaction can commit an audit entry with a lower id after higher
    ids were read: the skipped id is remembered and read once it appears."""
    from salesplan.core.models import AuditEntry
    from salesplan.metrics.models import RollupState

    start = (AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 100
    state = RollupState(name="probe", audit_mark=start)
    for pk in (start + 2, start + 3):
        AuditEntry.objects.create(id=pk, record_type="opportunity", record_id=pk,
                                  action="update")
    entries, mark, gaps = rollup._new_entries(state)
    assert sorted(e[0] for e in entries) == [start + 2, start + 3] and mark == start + 3
    assert [g[0] for g in gaps] == [start + 1]
    state.audit_mark, state.gaps = mark, gaps
    AuditEntry.objects.create(id=start + 1, record_type="opportunity", record_id=7,
                              action="update")
    entries, mark, gaps = rollup._new_entries(state)
    assert [e[0] for e in entries] == [start + 1] and mark == start + 3 and gaps == []


def test_large_company_never_builds_the_rollups_inside_a_request(org, history, monkeypatch):
    from django.test import Client

    from salesplan.reports.catalog import run_report

    monkeypatch.setattr(rollup, "LARGE", 3)  # "large" from three opportunities on
    with pytest.raises(rollup.RollupsNotReady):
        run_report("bookings", org.executive, parse_filters({"period": "FY2026-Q1"}))
    client = Client()
    client.force_login(org.executive)
    page = client.get("/reports/r/bookings/", {"period": "FY2026-Q1"})
    assert page.status_code == 503 and b"salesplan reports rebuild" in page.content
    rollup.rebuild()  # what the admin's job does
    result = run_report("bookings", org.executive, parse_filters({"period": "FY2026-Q1"}))
    assert result.rows[-1].values[2] == Decimal("15000.00")


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_on_postgresql_leaves_no_dead_rows_behind(org, history):
    # A rebuild deletes every rollup row and writes it again; unvacuumed, the reports
    # would read past the dead half (autovacuum may be late, or off).
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("VACUUM is PostgreSQL's")
    tables = [OpportunityLine._meta.db_table, OpportunityFact._meta.db_table]

    def vacuums() -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT relname, vacuum_count FROM pg_stat_user_tables "
                           "WHERE relname = ANY(%s)", [tables])
            return dict(cursor.fetchall())

    before = vacuums()
    rollup.rebuild(["opportunities"])
    after = vacuums()
    assert all(after[t] == before.get(t, 0) + 1 for t in tables), (before, after)
    _lines_agree(["opportunities"])
    # The rebuild job runs in a transaction: the vacuum follows its commit.
    with transaction.atomic():
        rollup.rebuild(["opportunities"])
        assert vacuums() == after
    assert all(vacuums()[t] == after[t] + 1 for t in tables)
