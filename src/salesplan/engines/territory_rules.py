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

from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

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
    def _anchors(rule: Rule) -> list[Condition] | None:
        if rule.combine == "any":
            if any(c.op == "between" for c in rule.conditions):
                return None
            return list(rule.conditions)
        for name in ANCHOR_PREFERENCE:
            for condition in rule.conditions:
                if condition.field == name:
                    return [condition]
        return None

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
