"""The benchmark company is a function of its seed: figures measured on two builds with
the same arguments compare like with like."""

import sys
from pathlib import Path

import pytest
from django.db import connection, transaction

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import build_company  # noqa: E402


class _Rollback(Exception):
    pass


def _built(seed: int, read=build_company.digest):
    """What `read` finds in a small company built with `seed`, the rows rolled back."""
    args = build_company.parse_args(["--accounts", "30", "--deals-per-account", "3",
                                     "--teams", "2", "--reps-per-team", "2",
                                     "--seed", str(seed)])
    args.as_of, args.skip_migrate = args.as_of_moment, True
    found = None
    try:
        with transaction.atomic():
            build_company.bench_quality.build(args)
            found = read()
            raise _Rollback
    except _Rollback:
        pass
    return found


def _built_digest(seed: int) -> str:
    return _built(seed) or ""


# Rows whose reference breaks a rule the services enforce, by rule.
BROKEN_REFERENCES = {
    "deal's contact on another account": (
        "SELECT COUNT(*) FROM pipeline_opportunity o JOIN customers_contact c "
        "ON c.id = o.contact_id WHERE c.account_id <> o.account_id"),
    "activity's deal on another account": (
        "SELECT COUNT(*) FROM activities_activity a JOIN pipeline_opportunity o "
        "ON o.id = a.opportunity_id WHERE a.account_id IS NULL "
        "OR a.account_id <> o.account_id"),
    "activity's contact on another account": (
        "SELECT COUNT(*) FROM activities_activity a JOIN customers_contact c "
        "ON c.id = a.contact_id WHERE a.account_id <> c.account_id"),
    "activity linked to nothing": (
        "SELECT COUNT(*) FROM activities_activity WHERE account_id IS NULL AND "
        "contact_id IS NULL AND opportunity_id IS NULL AND lead_id IS NULL"),
    "quote's contact on another account than its deal": (
        "SELECT COUNT(*) FROM proposals_quoteversion v JOIN proposals_quote q "
        "ON q.id = v.quote_id JOIN pipeline_opportunity o ON o.id = q.opportunity_id "
        "JOIN customers_contact c ON c.id = v.contact_id WHERE c.account_id <> o.account_id"),
    "quote on a closed deal": (
        "SELECT COUNT(*) FROM proposals_quote q JOIN pipeline_opportunity o "
        "ON o.id = q.opportunity_id WHERE o.status <> 'open' AND q.status IN "
        "('draft', 'in_approval')"),
}


def _references() -> dict:
    with connection.cursor() as cursor:
        broken = {}
        for rule, sql in BROKEN_REFERENCES.items():
            cursor.execute(sql)
            broken[rule] = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM pipeline_opportunity WHERE contact_id IS NOT NULL")
        return {"broken": broken, "deals_with_contact": cursor.fetchone()[0]}


@pytest.mark.django_db
def test_same_seed_builds_the_same_company_and_another_seed_another():
    first = _built_digest(5)
    assert first
    assert _built_digest(5) == first
    assert _built_digest(6) != first


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [5, 6])
def test_built_company_references_follow_the_products_rules(seed):
    """Changing a deal through the services checks its contact is on its account: every
    generated deal, activity and quote must pass the same checks."""
    found = _built(seed, _references)
    assert found["deals_with_contact"] > 0
    assert found["broken"] == dict.fromkeys(BROKEN_REFERENCES, 0)


def _unusable_indexes() -> list[str]:
    """PostgreSQL's indexes the planner cannot use (invalid, or on no partition)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                       "JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE n.nspname = current_schema() AND NOT i.indisvalid ORDER BY 1")
        return [name for (name,) in cursor.fetchall()]


@pytest.mark.django_db
def test_built_company_keeps_every_index_usable():
    """The loader drops indexes and makes them again after the rows: a partitioned
    table's (the territory results) must come back on its partitions too, or the
    figures measured on the company read whole tables the product reads by index."""
    if connection.vendor != "postgresql":
        pytest.skip("partitioned tables and index validity are PostgreSQL's")
    assert _built(5, _unusable_indexes) == []
