"""The territory rule engine: validation, priorities, and indexed == naive on random input."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from salesplan.engines.territory_rules import (
    AccountColumns,
    BulkMatcher,
    NamedAccount,
    Rule,
    RuleIndex,
    account_facts,
    assign_naively,
    rules_may_overlap,
    validate_rule,
)


def rule(rule_id, territory, conditions, combine="all", kind="geographic", rank=(0, 0)):
    parsed, errors = validate_rule(combine, conditions)
    assert not errors, errors
    return Rule(rule_id, territory, kind, rank, f"rule {rule_id} of T{territory}", combine, parsed)


def facts(account_id, state="CA", postal="94107", industry="Software", tier="smb",
          employees=100, revenue=Decimal("1000000"), country="US", county="San Francisco"):
    return account_facts((account_id, country, state, county, postal, industry, tier,
                          employees, revenue))


def test_reason_names_the_matching_condition_and_rule():
    rules = [rule(3, 1, [{"field": "postal_code", "op": "prefix", "values": ["941"]}])]
    out = RuleIndex(rules).assign([facts(1)])
    assert out.assignments == [(1, 1, "geographic", "postal code 941* in rule 3 of T1")]


def test_higher_priority_wins_and_ties_are_conflicts():
    ca = {"field": "state", "values": ["ca"]}
    bay = {"field": "postal_code", "op": "prefix", "values": ["94"]}
    out = RuleIndex([rule(1, 1, [ca], rank=(0, 0)), rule(2, 2, [bay], rank=(5, 0))]).assign(
        [facts(1), facts(2, postal="90001")])
    assert sorted(out.assignments)[0][:2] == (1, 2)
    assert sorted(out.assignments)[1][:2] == (2, 1)
    tied = RuleIndex([rule(1, 1, [ca]), rule(2, 2, [bay])]).assign([facts(1)])
    assert tied.assignments == [] and tied.conflicts == [(1, "geographic", (1, 2))]


def test_deeper_territory_beats_its_region_at_equal_priority():
    region = rule(1, 1, [{"field": "country", "values": ["US"]}], rank=(0, 0))
    district = rule(2, 2, [{"field": "state", "values": ["CA"]}], rank=(0, 1))
    out = RuleIndex([region, district]).assign([facts(1), facts(2, state="NY")])
    assert sorted(a[:2] for a in out.assignments) == [(1, 2), (2, 1)]


def test_named_accounts_beat_rules_and_exclusions_remove_claims():
    ca = rule(1, 1, [{"field": "state", "values": ["CA"]}])
    named = [NamedAccount(9, "geographic", (0, 0), 1, True, "Key accounts"),
             NamedAccount(1, "geographic", (0, 0), 2, False)]
    out = RuleIndex([ca], named).assign([facts(1), facts(2), facts(3)])
    assert (1, 9, "geographic", "named account of Key accounts") in out.assignments
    assert out.unclaimed == [2]
    assert [a[0] for a in out.assignments] == [1, 3]


def test_one_territory_per_type():
    geo = rule(1, 1, [{"field": "state", "values": ["CA"]}])
    vertical = rule(2, 2, [{"field": "industry", "values": ["software"]}], kind="vertical")
    out = RuleIndex([geo, vertical]).assign([facts(1)])
    assert sorted((a[1], a[2]) for a in out.assignments) == [(1, "geographic"), (2, "vertical")]


def test_postal_ranges_bands_and_or_rules():
    rng = rule(1, 1, [{"field": "postal_code", "op": "range", "values": ["94000-94199"]},
                      {"field": "employees", "op": "between", "values": [50, None]}])
    either = rule(2, 2, [{"field": "tier", "values": ["strategic"]},
                         {"field": "annual_revenue", "op": "between", "values": [None, 10]}],
                  combine="any", kind="overlay")
    out = RuleIndex([rng, either]).assign([
        facts(1, postal="94107", employees=60), facts(2, postal="94207"),
        facts(3, postal="94107", employees=10, revenue=Decimal(5))])
    assert {(a[0], a[1]) for a in out.assignments} == {(1, 1), (3, 2)}
    assert any("annual revenue up to 10 in rule 2" in a[3] for a in out.assignments)


def test_bad_rules_are_refused_naming_the_field():
    cases = {
        ("all", "postal_code"): [{"field": "postal_code", "op": "range", "values": ["9500-94999"]}],
        ("all", "color"): [{"field": "color", "values": ["red"]}],
        ("all", "state"): [{"field": "state", "values": ["CA"]},
                           {"field": "state", "values": ["NY"]}],
        ("all", "employees"): [{"field": "employees", "op": "between", "values": [500, 10]}],
    }
    for (combine, name), conditions in cases.items():
        _, errors = validate_rule(combine, conditions)
        assert errors and errors[0][0] == name, (name, errors)
    _, errors = validate_rule("all", [{"field": "postal_code", "op": "range",
                                       "values": ["95000", "94999"]}])
    assert "starts after it ends" in errors[0][1]


def test_overlap_detection():
    def parsed(conds, combine="all"):
        return combine, validate_rule(combine, conds)[0]
    a = parsed([{"field": "postal_code", "op": "prefix", "values": ["941"]}])
    b = parsed([{"field": "postal_code", "op": "range", "values": ["94100", "94199"]}])
    c = parsed([{"field": "postal_code", "op": "prefix", "values": ["95"]}])
    d = parsed([{"field": "industry", "values": ["retail"]}])
    assert rules_may_overlap(a, b) and not rules_may_overlap(a, c) and rules_may_overlap(c, d)


# --- property: the index never changes the answer ---------------------------------------

STATES = ["CA", "NY", "TX", "WA"]
CODES = ["94107", "94110", "94301", "10001", "10013", "73301", "98101", "9410", ""]
INDUSTRIES = ["software", "retail", "banking", ""]
TIERS = ["smb", "enterprise", "strategic", ""]

conditions = st.one_of(
    st.builds(lambda v: {"field": "state", "values": v}, st.lists(st.sampled_from(STATES),
                                                                   min_size=1, max_size=2)),
    st.builds(lambda v: {"field": "industry", "values": v},
              st.lists(st.sampled_from(INDUSTRIES[:3]), min_size=1, max_size=2)),
    st.builds(lambda v: {"field": "tier", "values": [v]}, st.sampled_from(TIERS[:3])),
    st.builds(lambda v: {"field": "country", "values": [v]}, st.sampled_from(["US", "CA"])),
    st.builds(lambda v: {"field": "postal_code", "op": "prefix", "values": [v]},
              st.sampled_from(["9", "94", "941", "1000", "98101"])),
    st.builds(lambda v: {"field": "postal_code", "op": "in", "values": [v]},
              st.sampled_from(CODES[:-1])),
    st.builds(lambda lo, w: {"field": "postal_code", "op": "range",
                             "values": [f"{lo:05d}", f"{lo + w:05d}"]},
              st.integers(0, 99000), st.integers(0, 30000)),
    st.builds(lambda lo, w: {"field": "postal_code", "op": "range",
                             "values": [f"{lo:03d}", f"{lo + w:03d}"]},
              st.integers(0, 900), st.integers(0, 99)),
    st.builds(lambda lo, w: {"field": "employees", "op": "between", "values": [lo, lo + w]},
              st.integers(0, 500), st.integers(0, 500)),
    st.builds(lambda lo, hi: {"field": "annual_revenue", "op": "between", "values": [lo, hi]},
              st.one_of(st.none(), st.sampled_from(["10.5", "100", "250.25"])),
              st.sampled_from(["100", "250.25", "999.99"])),
)


@st.composite
def rule_sets(draw):
    rules = []
    for rule_id in range(1, draw(st.integers(1, 12)) + 1):
        combine = draw(st.sampled_from(["all", "any"]))
        conds = draw(st.lists(conditions, min_size=1, max_size=3))
        parsed, errors = validate_rule(combine, conds)
        if errors:
            continue
        territory = draw(st.integers(1, 6))
        rules.append(Rule(rule_id, territory, "geographic" if territory < 5 else "vertical",
                          (draw(st.integers(0, 2)), territory % 2), f"rule {rule_id}", combine,
                          parsed))
    return rules


accounts = st.lists(st.builds(
    lambda state, code, industry, tier, emp, revenue: facts(
        0, state=state, postal=code, industry=industry, tier=tier, employees=emp,
        revenue=revenue),
    st.sampled_from(STATES + [""]), st.sampled_from(CODES), st.sampled_from(INDUSTRIES),
    st.sampled_from(TIERS), st.one_of(st.none(), st.integers(0, 1000)),
    st.one_of(st.none(), st.sampled_from([Decimal("10.49"), Decimal("10.50"), Decimal("100"),
                                          Decimal("250.25"), Decimal("250.26"),
                                          Decimal("5000")]))), max_size=25)

# A territory names an account at most once (include or exclude), as the database's
# unique constraint on (territory, account) guarantees.
named_sets = st.lists(st.builds(
    lambda t, a, inc, p: NamedAccount(t, "geographic", (p, 0), a, inc, f"T{t}"),
    st.integers(1, 6), st.integers(0, 24), st.booleans(), st.integers(0, 2)), max_size=4,
    unique_by=lambda n: (n.territory_id, n.account_id))


@settings(max_examples=200, deadline=None)
@given(rules=rule_sets(), raw_accounts=accounts, named=named_sets)
def test_indexed_engine_matches_naive_engine(rules, raw_accounts, named):
    account_list = [(i, *f[1:]) for i, f in enumerate(raw_accounts)]
    indexed = RuleIndex(rules, named).assign(account_list)
    naive = assign_naively(rules, named, account_list)
    assert indexed.assignments == naive.assignments
    assert indexed.conflicts == naive.conflicts
    assert indexed.unclaimed == naive.unclaimed


def _sorted(outcome):
    return sorted(outcome.assignments), sorted(outcome.conflicts), sorted(outcome.unclaimed)


@settings(max_examples=200, deadline=None)
@given(rules=rule_sets(), raw_accounts=accounts, named=named_sets)
def test_bulk_matcher_matches_naive_engine(rules, raw_accounts, named):
    account_list = [(i, *f[1:]) for i, f in enumerate(raw_accounts)]
    bulk = BulkMatcher(rules, named).assign(AccountColumns.from_facts(account_list))
    naive = assign_naively(rules, named, account_list)
    assert _sorted(bulk.to_outcome()) == _sorted(naive)
