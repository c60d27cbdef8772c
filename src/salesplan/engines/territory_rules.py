"""Territory boundary rules: validating them and assigning accounts to territories.

Pure Python, no Django. An account is a tuple of facts (ACCOUNT_COLUMNS). A rule belongs
to one territory and combines conditions on account fields with AND ("all") or OR
("any"); a territory may have several rules (any of them claims). Named accounts are
included in (or excluded from) a territory explicitly.

Who wins when several territories of the same type claim an account:
1. an explicit named-account inclusion beats a boundary rule;
2. then the higher territory priority;
3. then the more specific territory (deeper in the hierarchy), so a district can carve
   accounts out of its region's catch-all rule.
Claims still tied after that are conflicts for the manager to settle; the account gets no
territory of that type until then.

`RuleIndex` compiles the rules into lookups (postal-code prefixes and exact codes,
sorted postal ranges, state/county/country/industry/tier maps) so each account is tested
against the few rules that could match it; numeric bands are never indexed and only
checked on the candidates (or, for rules made only of bands, on every account).
`assign_naively` tests every rule against every account: the reference the tests and
the benchmark compare against.
"""

import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

# Position of each fact in an account tuple.
ACCOUNT_COLUMNS = ("id", "country", "state", "county", "postal_code", "industry", "tier",
                   "employees", "annual_revenue")
POS = {name: i for i, name in enumerate(ACCOUNT_COLUMNS)}

SET_FIELDS = ("country", "state", "county", "industry", "tier")
BAND_FIELDS = ("employees", "annual_revenue")
FIELD_OPS = {
    "country": {"in"}, "state": {"in"}, "county": {"in"}, "industry": {"in"}, "tier": {"in"},
    "postal_code": {"in", "prefix", "range"},
    "employees": {"between"}, "annual_revenue": {"between"},
}
FIELD_LABELS = {"country": "country", "state": "state", "county": "county",
                "postal_code": "postal code", "industry": "industry", "tier": "tier",
                "employees": "employees", "annual_revenue": "annual revenue"}
# The order in which an AND rule picks the condition it is indexed under: the most
# selective first.
ANCHOR_PREFERENCE = ("postal_code", "county", "state", "industry", "tier", "country")
COMBINES = ("all", "any")


def normalise(field_name: str, value):
    """The comparable form of a text fact: codes upper-case, names case-folded."""
    if value is None:
        return ""
    text = str(value).strip()
    if field_name in ("country", "state", "postal_code"):
        return text.upper()
    return text.casefold()


def account_facts(row: Iterable) -> tuple:
    """A raw (id, country, state, county, postal, industry, tier, employees, revenue)
    row with its text facts normalised, ready for matching. Written out by hand because
    a full run calls it a million times."""
    account_id, country, state, county, postal, industry, tier, employees, revenue = row
    return (account_id, (country or "").strip().upper(), (state or "").strip().upper(),
            (county or "").strip().casefold(), (postal or "").strip().upper(),
            (industry or "").strip().casefold(), (tier or "").strip().casefold(),
            employees, revenue)


# --- conditions and rules ----------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """One test on one account field.

    op "in": the value is one of `values`; "prefix": the postal code starts with one of
    `values`; "range": `values` is (low, high) and the postal code's first len(low)
    characters lie between them; "between": `values` is (minimum, maximum), either None.
    """

    field: str
    op: str
    values: tuple

    def describe(self) -> str:
        label = FIELD_LABELS.get(self.field, self.field)
        if self.op == "prefix":
            return f"{label} " + " or ".join(f"{v}*" for v in self.values)
        if self.op == "range":
            return f"{label} {self.values[0]}–{self.values[1]}"
        if self.op == "between":
            low, high = self.values
            if low is None:
                return f"{label} up to {high}"
            if high is None:
                return f"{label} {low} or more"
            return f"{label} {low}–{high}"
        return f"{label} " + " or ".join(str(v) for v in self.values)

    def test(self) -> Callable[[tuple], bool]:
        """A fast predicate over an account tuple."""
        pos = POS[self.field]
        if self.op == "in":
            accepted = frozenset(self.values)
            return lambda facts: facts[pos] in accepted
        if self.op == "prefix":
            prefixes = tuple(self.values)
            return lambda facts: facts[pos].startswith(prefixes)
        if self.op == "range":
            low, high = self.values
            width = len(low)
            return lambda facts: len(facts[pos]) >= width and low <= facts[pos][:width] <= high
        low, high = self.values

        def in_band(facts: tuple) -> bool:
            value = facts[pos]
            return value is not None and (low is None or value >= low) and (
                high is None or value <= high)

        return in_band


@dataclass(frozen=True)
class Rule:
    """A boundary rule of one territory. `rank` is (priority, depth): higher wins.
    `label` names it for people, e.g. "rule 3 of Bay Area"."""

    id: int
    territory_id: int
    kind: str
    rank: tuple[int, int]
    label: str
    combine: str
    conditions: tuple[Condition, ...]

    def reason_for(self, matched: Condition | None = None) -> str:
        if self.combine == "any" and matched is not None:
            return f"{matched.describe()} in {self.label}"
        return " and ".join(c.describe() for c in self.conditions) + f" in {self.label}"


@dataclass(frozen=True)
class NamedAccount:
    """An account explicitly included in (or excluded from) a territory."""

    territory_id: int
    kind: str
    rank: tuple[int, int]
    account_id: int
    include: bool
    territory_name: str = ""


@dataclass
class Outcome:
    """What an assignment run decided.

    assignments: (account_id, territory_id, kind, reason), at most one per account and kind.
    conflicts: (account_id, kind, territory ids tied at the top).
    unclaimed: accounts no territory of any type claims.
    """

    assignments: list[tuple[int, int, str, str]] = field(default_factory=list)
    conflicts: list[tuple[int, str, tuple[int, ...]]] = field(default_factory=list)
    unclaimed: list[int] = field(default_factory=list)


# --- validation ---------------------------------------------------------------------


def parse_condition(raw: object) -> tuple[Condition | None, list[tuple[str, str]]]:
    """Turn {"field", "op", "values"} into a Condition, or errors (field, message)."""
    if not isinstance(raw, dict):
        return None, [("conditions", "Each condition must be an object with field, op, values.")]
    name, op, values = raw.get("field"), raw.get("op", "in"), raw.get("values")
    if name not in FIELD_OPS:
        return None, [(str(name), f"Unknown field '{name}'; use one of "
                                  + ", ".join(FIELD_OPS) + ".")]
    if op not in FIELD_OPS[name]:
        return None, [(name, f"'{op}' cannot be used on {FIELD_LABELS[name]}; use "
                             + " or ".join(sorted(FIELD_OPS[name])) + ".")]
    if isinstance(values, (str, int, float, Decimal)):
        values = [values]
    if not isinstance(values, (list, tuple)) or not values:
        return None, [(name, f"Give at least one value for {FIELD_LABELS[name]}.")]
    if op == "between":
        return _parse_band(name, list(values))
    if op == "range":
        return _parse_range(name, list(values))
    cleaned = []
    for value in values:
        text = normalise(name, value)
        if not text:
            return None, [(name, f"Empty value in {FIELD_LABELS[name]}.")]
        cleaned.append(text)
    return Condition(name, op, tuple(dict.fromkeys(cleaned))), []


def _parse_range(name: str, values: list) -> tuple[Condition | None, list[tuple[str, str]]]:
    if len(values) == 1 and isinstance(values[0], str) and "-" in values[0]:
        values = values[0].split("-", 1)
    if len(values) != 2:
        return None, [(name, "A postal-code range needs exactly two codes, e.g. 94000-94999.")]
    low, high = (normalise(name, v) for v in values)
    if not low or not high or not low.isalnum() or not high.isalnum():
        return None, [(name, f"Postal-code range '{low}-{high}' must be two plain codes.")]
    if len(low) != len(high):
        return None, [(name, f"Postal-code range '{low}-{high}': both ends need the same "
                             "number of characters.")]
    if low > high:
        return None, [(name, f"Postal-code range '{low}-{high}' starts after it ends.")]
    return Condition(name, "range", (low, high)), []


def _parse_band(name: str, values: list) -> tuple[Condition | None, list[tuple[str, str]]]:
    if len(values) != 2:
        return None, [(name, f"A {FIELD_LABELS[name]} band needs a minimum and a maximum "
                             "(either may be empty).")]
    bounds: list[Decimal | int | None] = []
    for value in values:
        if value is None or value == "":
            bounds.append(None)
            continue
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return None, [(name, f"'{value}' is not a number.")]
        if not number.is_finite() or number < 0:
            return None, [(name, f"'{value}' is not a valid {FIELD_LABELS[name]} bound.")]
        bounds.append(int(number) if name == "employees" and number == int(number) else number)
    low, high = bounds
    if low is None and high is None:
        return None, [(name, f"A {FIELD_LABELS[name]} band needs a minimum or a maximum.")]
    if low is not None and high is not None and low > high:
        return None, [(name, f"The {FIELD_LABELS[name]} band {low}–{high} is empty "
                             "(minimum above maximum).")]
    return Condition(name, "between", (low, high)), []


def _postal_sets_overlap(a: Condition, b: Condition) -> bool:
    """Whether some postal code satisfies both conditions (conservatively true)."""
    if a.op == "in" and b.op == "in":
        return bool(set(a.values) & set(b.values))
    if a.op == "in":
        return any(b.test()((0, "", "", "", code, "", "", None, None)) for code in a.values)
    if b.op == "in":
        return _postal_sets_overlap(b, a)
    if a.op == "prefix" and b.op == "prefix":
        return any(p.startswith(q) or q.startswith(p) for p in a.values for q in b.values)
    if a.op == "range" and b.op == "range":
        width = min(len(a.values[0]), len(b.values[0]))
        return not (a.values[1][:width] < b.values[0][:width]
                    or b.values[1][:width] < a.values[0][:width])
    prefix_cond, range_cond = (a, b) if a.op == "prefix" else (b, a)
    low, high = range_cond.values
    for p in prefix_cond.values:
        width = min(len(p), len(low))
        if low[:width] <= p[:width] <= high[:width]:
            return True
    return False


def conditions_overlap(a: Condition, b: Condition) -> bool:
    """Whether some account could satisfy both conditions on the same field."""
    if a.field != b.field:
        return True
    if a.field == "postal_code":
        return _postal_sets_overlap(a, b)
    if a.op == "between":
        (alo, ahi), (blo, bhi) = a.values, b.values
        return not ((ahi is not None and blo is not None and ahi < blo)
                    or (bhi is not None and alo is not None and bhi < alo))
    return bool(set(a.values) & set(b.values))


def contradictions(conditions: tuple[Condition, ...]) -> list[tuple[str, str]]:
    """For an AND rule: pairs of conditions on one field that no account can meet."""
    problems = []
    for i, first in enumerate(conditions):
        for second in conditions[i + 1:]:
            if first.field == second.field and not conditions_overlap(first, second):
                problems.append((first.field, f"'{first.describe()}' and '{second.describe()}' "
                                              "cannot both be true."))
    return problems


def validate_rule(combine: str, raw_conditions: object) -> tuple[tuple[Condition, ...],
                                                                  list[tuple[str, str]]]:
    """Parse and check a rule's conditions; returns (conditions, errors (field, message))."""
    if combine not in COMBINES:
        return (), [("combine", "Combine conditions with 'all' (AND) or 'any' (OR).")]
    if not isinstance(raw_conditions, (list, tuple)) or not raw_conditions:
        return (), [("conditions", "A rule needs at least one condition.")]
    conditions, errors = [], []
    for raw in raw_conditions:
        condition, problems = parse_condition(raw)
        errors.extend(problems)
        if condition is not None:
            conditions.append(condition)
    if not errors and combine == "all":
        errors.extend(contradictions(tuple(conditions)))
    return tuple(conditions), errors


def _alternatives(rule_conditions: tuple[Condition, ...], combine: str):
    """The rule as a list of AND-groups (an OR rule is one group per condition)."""
    return [rule_conditions] if combine == "all" else [(c,) for c in rule_conditions]


def rules_may_overlap(a: tuple[str, tuple[Condition, ...]],
                      b: tuple[str, tuple[Condition, ...]]) -> bool:
    """Whether some account could satisfy both rules, given as (combine, conditions).
    Fields are independent, so two AND-groups overlap unless one field rules it out."""
    for group_a in _alternatives(a[1], a[0]):
        for group_b in _alternatives(b[1], b[0]):
            if all(conditions_overlap(x, y) for x in group_a for y in group_b):
                return True
    return False


# --- assignment ------------------------------------------------------------------------


class _Resolver:
    """Turns the claims on one account into assignments or conflicts."""

    def __init__(self, named: Iterable[NamedAccount]):
        self.includes: dict[int, list[NamedAccount]] = {}
        self.excluded: set[tuple[int, int]] = set()
        for item in named:
            if item.include:
                self.includes.setdefault(item.account_id, []).append(item)
            else:
                self.excluded.add((item.territory_id, item.account_id))
        self.excluded_accounts = {account for _, account in self.excluded}

    def resolve(self, account_id: int, claims: list[tuple[Rule, str]], out: Outcome) -> None:
        """`claims`: matching rules in rule order with their reasons."""
        excluded = account_id in self.excluded_accounts
        best: dict[str, list] = {}
        for rule, reason in claims:
            if excluded and (rule.territory_id, account_id) in self.excluded:
                continue
            self._offer(best, rule.kind, (0, *rule.rank), rule.territory_id, reason)
        for item in self.includes.get(account_id, ()):
            reason = f"named account of {item.territory_name or item.territory_id}"
            self._offer(best, item.kind, (1, *item.rank), item.territory_id, reason)
        if not best:
            out.unclaimed.append(account_id)
            return
        for kind, (_rank, winners) in best.items():
            if len(winners) == 1:
                territory_id, reason = next(iter(winners.items()))
                out.assignments.append((account_id, territory_id, kind, reason))
            else:
                out.conflicts.append((account_id, kind, tuple(sorted(winners))))

    @staticmethod
    def _offer(best: dict, kind: str, rank: tuple, territory_id: int, reason: str) -> None:
        current = best.get(kind)
        if current is None or rank > current[0]:
            best[kind] = [rank, {territory_id: reason}]
        elif rank == current[0]:
            current[1].setdefault(territory_id, reason)


def _matching_reason(rule: Rule, tests: tuple, facts: tuple) -> str | None:
    if rule.combine == "all":
        for test in tests:
            if not test(facts):
                return None
        return rule.reason_for()
    for condition, test in zip(rule.conditions, tests, strict=True):
        if test(facts):
            return rule.reason_for(condition)
    return None


def assign_naively(rules: list[Rule], named: Iterable[NamedAccount],
                   accounts: Iterable[tuple]) -> Outcome:
    """Every rule against every account: slow, obviously right."""
    resolver = _Resolver(named)
    compiled = [(rule, tuple(c.test() for c in rule.conditions)) for rule in rules]
    out = Outcome()
    for facts in accounts:
        claims = []
        for rule, tests in compiled:
            reason = _matching_reason(rule, tests, facts)
            if reason is not None:
                claims.append((rule, reason))
        resolver.resolve(facts[0], claims, out)
    return out


class _RangeIndex:
    """Postal-code ranges of one width, cut into elementary segments so a lookup is
    one binary search whatever the number of ranges."""

    def __init__(self, width: int, ranges: list[tuple[str, str, int]]):
        self.width = width
        events = sorted([((low, 0), +1, idx) for low, _high, idx in ranges]
                        + [((high, 1), -1, idx) for _low, high, idx in ranges])
        self.bounds: list[tuple[str, int]] = []
        self.covering: list[tuple[int, ...]] = [()]
        active: dict[int, int] = {}
        for point, change, idx in events:
            active[idx] = active.get(idx, 0) + change
            if not active[idx]:
                del active[idx]
            if self.bounds and self.bounds[-1] == point:
                self.covering[-1] = tuple(sorted(active))
            else:
                self.bounds.append(point)
                self.covering.append(tuple(sorted(active)))

    def lookup(self, code: str) -> tuple[int, ...]:
        if len(code) < self.width:
            return ()
        # A code k lies in [low, high] exactly when (low, 0) <= (k, 0.5) <= (high, 1).
        return self.covering[bisect_right(self.bounds, (code[:self.width], 0.5))]


class RuleIndex:
    """Rules compiled into lookups; `assign` matches each account against candidates only."""

    def __init__(self, rules: list[Rule], named: Iterable[NamedAccount] = ()):
        self.rules = list(rules)
        self.resolver = _Resolver(named)
        self.maps: dict[str, dict[str, list[int]]] = {f: {} for f in (*SET_FIELDS, "postal_code")}
        self.prefixes: dict[str, list[int]] = {}
        self.always: list[int] = []
        ranges: dict[int, list[tuple[str, str, int]]] = {}
        self.load = self._bucket_load(self.rules)
        self.rest: list[tuple] = []
        self.all_tests: list[tuple] = []
        self.reasons = [rule.reason_for() for rule in self.rules]
        for idx, rule in enumerate(self.rules):
            tests = tuple(c.test() for c in rule.conditions)
            self.all_tests.append(tests)
            anchors = self._anchors(rule)
            if anchors is None:
                self.always.append(idx)
            else:
                for condition in anchors:
                    self._index(condition, idx, ranges)
            # An AND rule found through its anchor only needs its other conditions checked.
            if rule.combine == "all" and anchors:
                anchor = anchors[0]
                self.rest.append(tuple(t for c, t in zip(rule.conditions, tests, strict=True)
                                       if c is not anchor))
            else:
                self.rest.append(tests)
        self.prefix_widths = sorted({len(p) for p in self.prefixes})
        self.ranges = [_RangeIndex(width, items) for width, items in sorted(ranges.items())]

    @staticmethod
    def _bucket_load(rules: list[Rule]) -> dict[tuple[str, str], int]:
        """How many rules test each (field, value): an AND rule is indexed under its
        condition with the emptiest buckets, so accounts meet few candidates (verticals
        "industry X and state in region" go under the industry, not the ten states)."""
        load: dict[tuple[str, str], int] = {}
        for rule in rules:
            for condition in rule.conditions:
                if condition.op in ("in", "prefix"):
                    for value in condition.values:
                        key = (condition.field, value)
                        load[key] = load.get(key, 0) + 1
        return load

    def _anchors(self, rule: Rule) -> list[Condition] | None:
        if rule.combine == "any":
            if any(c.op == "between" for c in rule.conditions):
                return None
            return list(rule.conditions)
        best, best_cost = None, None
        for condition in rule.conditions:
            if condition.op == "between":
                continue
            if condition.op == "range":
                cost = 0.0  # ranges are cut into segments: one lookup, few hits
            else:
                cost = sum(self.load.get((condition.field, v), 0) for v in condition.values)
                cost /= len(condition.values)
            cost += ANCHOR_PREFERENCE.index(condition.field) * 1e-3  # stable tie-break
            if best_cost is None or cost < best_cost:
                best, best_cost = condition, cost
        return [best] if best is not None else None

    def _index(self, condition: Condition, idx: int, ranges: dict) -> None:
        if condition.op == "prefix":
            for prefix in condition.values:
                self.prefixes.setdefault(prefix, []).append(idx)
        elif condition.op == "range":
            low, high = condition.values
            ranges.setdefault(len(low), []).append((low, high, idx))
        else:
            target = self.maps[condition.field]
            for value in condition.values:
                target.setdefault(value, []).append(idx)

    def candidates(self, facts: tuple) -> list[int]:
        """Indexes of the rules that could match this account, in rule order."""
        found: list[int] = list(self.always)
        maps = self.maps
        for name in SET_FIELDS:
            hit = maps[name].get(facts[POS[name]])
            if hit:
                found.extend(hit)
        code = facts[4]
        if code:
            hit = maps["postal_code"].get(code)
            if hit:
                found.extend(hit)
            for width in self.prefix_widths:
                if width > len(code):
                    break
                hit = self.prefixes.get(code[:width])
                if hit:
                    found.extend(hit)
            for index in self.ranges:
                found.extend(index.lookup(code))
        if len(found) > 1:
            found = sorted(set(found))
        return found

    def claims(self, facts: tuple) -> list[tuple[Rule, str]]:
        out = []
        rules, rest = self.rules, self.rest
        for idx in self.candidates(facts):
            rule = rules[idx]
            if rule.combine == "all":
                for test in rest[idx]:
                    if not test(facts):
                        break
                else:
                    out.append((rule, self.reasons[idx]))
            else:
                reason = _matching_reason(rule, self.all_tests[idx], facts)
                if reason is not None:
                    out.append((rule, reason))
        return out

    def assign(self, accounts: Iterable[tuple], out: Outcome | None = None) -> Outcome:
        """Assign each account (normalised facts); appends to `out` if given."""
        out = out if out is not None else Outcome()
        resolve = self.resolver.resolve
        claims = self.claims
        for facts in accounts:
            resolve(facts[0], claims(facts), out)
        return out


# --- bulk matching (full runs) -------------------------------------------------------


@dataclass
class AccountColumns:
    """Many accounts as columns: the form a full run reads them in.

    Text columns hold values as stored (the matcher normalises each distinct value);
    `employees` and `revenue_cents` are integers, None when unknown (revenue in
    hundredths)."""

    ids: list[int]
    country: list[str]
    state: list[str]
    county: list[str]
    postal_code: list[str]
    industry: list[str]
    tier: list[str]
    employees: list[int | None]
    revenue_cents: list[int | None]

    @classmethod
    def from_facts(cls, facts: Iterable[tuple]) -> "AccountColumns":
        rows = list(facts)
        cols = list(zip(*rows, strict=True)) if rows else [()] * len(ACCOUNT_COLUMNS)
        revenue = [None if v is None else int((Decimal(v) * 100).to_integral_value())
                   for v in cols[8]]
        ids, country, state, county, postal_code, industry, tier, employees = (
            list(c) for c in cols[:8])
        return cls(ids, country, state, county, postal_code, industry, tier, employees,
                   revenue)


@dataclass
class BulkOutcome:
    """Assignments as parallel columns (a million tuples cost more than the matching)."""

    account_ids: Any  # numpy arrays (numpy is imported only where a full run needs it)
    territory_ids: Any
    kind_codes: Any
    reason_codes: Any
    kinds: list[str]
    reasons: list[str]
    conflicts: list[tuple[int, str, tuple[int, ...]]]
    unclaimed: list[int]

    def __len__(self) -> int:
        return len(self.account_ids)

    def chunks(self, size: int = 20_000):
        """(account_id, territory_id, kind, reason) tuples, `size` at a time."""
        kinds, reasons = self.kinds, self.reasons
        for start in range(0, len(self), size):
            end = start + size
            yield list(zip(self.account_ids[start:end].tolist(),
                           self.territory_ids[start:end].tolist(),
                           [kinds[k] for k in self.kind_codes[start:end].tolist()],
                           [reasons[r] for r in self.reason_codes[start:end].tolist()],
                           strict=True))

    def to_outcome(self) -> Outcome:
        out = Outcome(conflicts=list(self.conflicts), unclaimed=list(self.unclaimed))
        for chunk in self.chunks():
            out.assignments.extend(chunk)
        return out


def _first_seen_codes(values: list, np):
    """Each value's code: the position where it first occurs (the loop runs in C)."""
    first: dict = {}
    codes = np.fromiter(map(first.setdefault, values, itertools.count()), dtype=np.int64,
                        count=len(values))
    return first, codes


class _Column:
    """One text column encoded as integer codes, grouped for slice lookups. Values are
    normalised once per distinct value, not once per account."""

    def __init__(self, field_name: str, values: list[str], np):
        raw, raw_codes = _first_seen_codes(values, np)
        mapping: dict[str, int] = {}
        remap = np.zeros(len(values) + 1, dtype=np.int64)
        for value, code in raw.items():
            remap[code] = mapping.setdefault(normalise(field_name, value), len(mapping))
        codes = remap[raw_codes]
        self.mapping = mapping
        self.codes = codes
        # Few distinct values: a 16-bit stable sort is a radix sort, ten times faster.
        small = codes.astype(np.uint16) if len(mapping) < 1 << 16 else codes
        self.order = np.argsort(small, kind="stable")
        self.bounds = np.searchsorted(codes[self.order], np.arange(len(mapping) + 1))

    def positions(self, values, np):
        parts = [self.order[self.bounds[c]:self.bounds[c + 1]]
                 for c in (self.mapping.get(v) for v in values) if c is not None]
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    def table(self, values, np):
        accepted = np.zeros(len(self.mapping) + 1, dtype=bool)
        for value in values:
            code = self.mapping.get(value)
            if code is not None:
                accepted[code] = True
        return accepted


class _PostalColumn:
    """Postal codes ranked in string order: prefixes, ranges and exact codes become
    slices of accounts sorted by code."""

    def __init__(self, values: list[str], np):
        raw, raw_codes = _first_seen_codes(values, np)
        # Every distinct code is normalised and ranked once, in loops that run in C.
        normalised = [normalise("postal_code", value) for value in raw]
        uniques = sorted(set(normalised))
        rank = {code: i for i, code in enumerate(uniques)}
        remap = np.zeros(len(values) + 1, dtype=np.int64)
        remap[np.fromiter(raw.values(), dtype=np.int64, count=len(raw))] = np.fromiter(
            map(rank.__getitem__, normalised), dtype=np.int64, count=len(normalised))
        self.uniques = uniques
        self.ranks = remap[raw_codes]
        self.lengths = np.array([len(u) for u in uniques] + [0], dtype=np.int64)[self.ranks]
        self.order = np.argsort(self.ranks)
        self.sorted_ranks = self.ranks[self.order]

    def rank_span(self, low: str, high_exclusive: str) -> tuple[int, int]:
        """Ranks of the distinct codes c with low <= c < high_exclusive."""
        return bisect_left(self.uniques, low), bisect_left(self.uniques, high_exclusive)

    def spans(self, condition: Condition) -> list[tuple[int, int]]:
        if condition.op == "in":
            return [self.rank_span(v, v + "\0") for v in condition.values]
        if condition.op == "prefix":
            return [self.rank_span(p, _after_prefix(p)) for p in condition.values]
        low, high = condition.values
        return [self.rank_span(low, _after_prefix(high))]

    def positions(self, condition: Condition, np):
        parts = []
        for start, end in self.spans(condition):
            lo, hi = np.searchsorted(self.sorted_ranks, [start, end])
            parts.append(self.order[lo:hi])
        found = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
        if condition.op == "range":
            found = found[self.lengths[found] >= len(condition.values[0])]
        return found

    def test(self, condition: Condition, positions, np):
        ranks = self.ranks[positions]
        mask = np.zeros(len(positions), dtype=bool)
        for start, end in self.spans(condition):
            mask |= (ranks >= start) & (ranks < end)
        if condition.op == "range":
            mask &= self.lengths[positions] >= len(condition.values[0])
        return mask


def _after_prefix(prefix: str) -> str:
    """The smallest string greater than every string starting with `prefix`."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


class BulkMatcher:
    """Full runs: accounts are indexed (codes sorted by postal code, grouped by state,
    industry, ...), and each rule is evaluated with numpy on the slice of accounts its
    most selective condition points to. Same answers as RuleIndex and assign_naively."""

    def __init__(self, rules: list[Rule], named: Iterable[NamedAccount] = ()):
        self.rules = list(rules)
        self.named = list(named)
        self._anchor = RuleIndex.__new__(RuleIndex)
        self._anchor.load = RuleIndex._bucket_load(self.rules)

    def assign(self, accounts: AccountColumns) -> BulkOutcome:
        import numpy as np

        n = len(accounts.ids)
        ids = np.array(accounts.ids, dtype=np.int64)
        used = self.fields_used()
        # Only the columns some rule reads are indexed (each costs a pass over all rows).
        columns = {name: _Column(name, getattr(accounts, name), np)
                   for name in SET_FIELDS if name in used}
        postal = _PostalColumn(accounts.postal_code, np) if "postal_code" in used else None
        bands = {name: _band_column(getattr(accounts, attr), np)
                 for name, attr in (("employees", "employees"),
                                    ("annual_revenue", "revenue_cents")) if name in used}
        kinds: list[str] = []
        reasons: list[str] = []
        parts: list[tuple] = []
        for order, rule in enumerate(self.rules):
            found = self._match(rule, n, columns, postal, bands, np)
            if found is None:
                continue
            positions, reason_codes = found
            if rule.kind not in kinds:
                kinds.append(rule.kind)
            base = len(reasons)
            if rule.combine == "all":
                reasons.append(rule.reason_for())
            else:
                reasons.extend(rule.reason_for(c) for c in rule.conditions)
            parts.append((positions, order, rule.territory_id, kinds.index(rule.kind),
                          _rank_code(0, rule.rank), base + reason_codes))
        parts.extend(self._named_claims(ids, kinds, reasons, np))
        return self._resolve(ids, parts, kinds, reasons, np)

    def fields_used(self) -> set[str]:
        """The account fields the rules read (a full run reads only these)."""
        return {c.field for rule in self.rules for c in rule.conditions}

    def _match(self, rule: Rule, n: int, columns, postal, bands, np):
        anchors = self._anchor._anchors(rule)
        if anchors is None:
            candidates = np.arange(n, dtype=np.int64)
        else:
            found = [postal.positions(c, np) if c.field == "postal_code"
                     else columns[c.field].positions(c.values, np) for c in anchors]
            candidates = found[0] if len(found) == 1 else np.unique(np.concatenate(found))
        if not len(candidates):
            return None
        masks = []
        for condition in rule.conditions:
            if condition.field == "postal_code":
                masks.append(postal.test(condition, candidates, np))
            elif condition.op == "between":
                masks.append(_band_test(bands[condition.field], condition, candidates, np))
            else:
                column = columns[condition.field]
                masks.append(column.table(condition.values, np)[column.codes[candidates]])
        if rule.combine == "all":
            keep = np.logical_and.reduce(masks)
            return candidates[keep], np.zeros(int(keep.sum()), dtype=np.int64)
        stacked = np.vstack(masks)
        keep = stacked.any(axis=0)
        return candidates[keep], stacked[:, keep].argmax(axis=0).astype(np.int64)

    def _named_claims(self, ids, kinds, reasons, np):
        if not self.named:
            return []
        sorter = np.argsort(ids)
        sorted_ids = ids[sorter]
        claims: list[tuple] = []
        for item in self.named:
            if not item.include:
                continue
            at = np.searchsorted(sorted_ids, item.account_id)
            if at >= len(ids) or sorted_ids[at] != item.account_id:
                continue
            if item.kind not in kinds:
                kinds.append(item.kind)
            reasons.append(f"named account of {item.territory_name or item.territory_id}")
            claims.append((np.array([sorter[at]], dtype=np.int64), len(self.rules) + len(claims),
                           item.territory_id, kinds.index(item.kind), _rank_code(1, item.rank),
                           np.array([len(reasons) - 1], dtype=np.int64)))
        return claims

    def _sorted_claims(self, ids, parts, np):
        """Every claim as parallel arrays (account position, territory, type, rank,
        reason, account*8 + type), sorted by account and type, best rank first, then
        rule order."""
        if parts:
            sizes = [len(p[0]) for p in parts]
            pos = np.concatenate([p[0] for p in parts])
            order = np.repeat(np.array([p[1] for p in parts], dtype=np.int64), sizes)
            territory = np.repeat(np.array([p[2] for p in parts], dtype=np.int64), sizes)
            kind = np.repeat(np.array([p[3] for p in parts], dtype=np.int64), sizes)
            rank = np.repeat(np.array([p[4] for p in parts], dtype=np.int64), sizes)
            reason = np.concatenate([p[5] for p in parts])
        else:
            pos = order = territory = kind = rank = reason = np.empty(0, dtype=np.int64)
        drop = self._excluded_mask(ids, pos, territory, np)
        if drop is not None and drop.any():
            keep = ~drop
            pos, order, territory, kind, rank, reason = (
                a[keep] for a in (pos, order, territory, kind, rank, reason))
        group_key = pos * 8 + kind
        sort = np.lexsort((order, -rank, group_key))
        return tuple(a[sort] for a in (pos, territory, kind, rank, reason, group_key))

    def _packed_claims(self, ids, parts, np):
        """The same as _sorted_claims, faster: each claim is one int64 holding (account,
        type, rank, part, matched condition), so one sort orders them and the fields are
        read back with shifts, instead of moving six arrays through a permutation. None
        when the fields do not fit in 63 bits."""
        if not parts:
            return None
        ranks, part_rank = np.unique(np.array([p[4] for p in parts], dtype=np.int64),
                                     return_inverse=True)
        first_reason = [int(p[5].min()) if len(p[5]) else 0 for p in parts]
        cond_bits = max(int(p[5].max()) - first if len(p[5]) else 0
                        for p, first in zip(parts, first_reason, strict=True)).bit_length()
        part_bits = (len(parts) - 1).bit_length()
        rank_bits = (len(ranks) - 1).bit_length()
        low_bits = rank_bits + part_bits + cond_bits
        if (len(ids) * 8).bit_length() + low_bits > 62:
            return None
        keys = np.concatenate([
            ((p[0] * 8 + p[3]) << low_bits)
            + (((len(ranks) - 1 - int(part_rank[j])) << (part_bits + cond_bits))
               + (j << cond_bits) - first_reason[j])
            + p[5] for j, p in enumerate(parts)])
        part_territory = np.array([p[2] for p in parts], dtype=np.int64)
        part_mask = (1 << part_bits) - 1
        if any(not item.include for item in self.named):
            drop = self._excluded_mask(ids, keys >> (low_bits + 3),
                                       part_territory[(keys >> cond_bits) & part_mask], np)
            if drop is not None and drop.any():
                keys = keys[~drop]
        keys.sort()
        group_key = keys >> low_bits
        part = (keys >> cond_bits) & part_mask
        reason = np.array(first_reason, dtype=np.int64)[part] + (keys & ((1 << cond_bits) - 1))
        # Better ranks sort first: compare their inverted numbers.
        rank = -((keys >> (part_bits + cond_bits)) & ((1 << rank_bits) - 1))
        return (group_key >> 3, part_territory[part], group_key & 7, rank, reason, group_key)

    def _excluded_mask(self, ids, pos, territory, np):
        excluded = {(i.territory_id, i.account_id) for i in self.named if not i.include}
        if not excluded:
            return None
        accounts = np.fromiter((a for _, a in excluded), dtype=np.int64)
        suspect = np.nonzero(np.isin(ids[pos], accounts))[0]
        drop = np.zeros(len(pos), dtype=bool)
        for at, tid, aid in zip(suspect.tolist(), territory[suspect].tolist(),
                                ids[pos[suspect]].tolist(), strict=True):
            drop[at] = (tid, aid) in excluded
        return drop

    def _resolve(self, ids, parts, kinds, reasons, np) -> BulkOutcome:
        claims = self._packed_claims(ids, parts, np)
        if claims is None:
            claims = self._sorted_claims(ids, parts, np)
        pos, territory, kind, rank, reason, group_key = claims
        n = len(ids)
        starts = np.ones(len(pos), dtype=bool)
        starts[1:] = group_key[1:] != group_key[:-1]
        group = np.cumsum(starts) - 1
        start_at = np.nonzero(starts)[0]
        # Claims are sorted best rank first: a group has one winner when every claim at
        # its best rank names the territory of its first claim.
        at_best = rank == rank[start_at][group]
        tied = at_best & (territory != territory[start_at][group])
        single = np.ones(len(start_at), dtype=bool)
        single[group[tied]] = False
        chosen = start_at[single]
        conflicts = []
        ends = np.append(start_at[1:], len(pos))
        for g in np.nonzero(~single)[0].tolist():
            rows = np.arange(start_at[g], ends[g])
            rows = rows[at_best[rows]]
            conflicts.append((int(ids[pos[rows[0]]]), kinds[int(kind[rows[0]])],
                              tuple(sorted(set(territory[rows].tolist())))))
        claimed = np.zeros(n, dtype=bool)
        claimed[pos] = True
        return BulkOutcome(ids[pos[chosen]], territory[chosen], kind[chosen], reason[chosen],
                           kinds, reasons, conflicts, ids[~claimed].tolist())


def _rank_code(named: int, rank: tuple[int, int]) -> int:
    priority, depth = rank
    return (named << 50) + ((priority + (1 << 24)) << 25) + depth


def _band_column(values: list, np):
    as_float = np.array(values, dtype=float)  # None becomes nan
    known = ~np.isnan(as_float)
    numbers = np.zeros(len(values), dtype=np.int64)
    if known.all():
        numbers = np.array(values, dtype=np.int64)
    elif known.any():
        numbers[known] = np.array([v for v in values if v is not None], dtype=np.int64)
    return known, numbers


def _band_test(column, condition: Condition, positions, np):
    import math

    known, numbers = column
    scale = 100 if condition.field == "annual_revenue" else 1
    low, high = condition.values
    mask = known[positions].copy()
    values = numbers[positions]
    if low is not None:
        mask &= values >= math.ceil(Decimal(low) * scale)
    if high is not None:
        mask &= values <= math.floor(Decimal(high) * scale)
    return mask
