"""The pricing engine: turns quote lines (product, quantity, the rep's extra discount)
into priced lines with tax, margin, floor checks and a plain-language explanation.

Pure Python, no Django. The caller gathers a `PricingContext` (the products with their
list prices already looked up in the price book, the pricing rules that could apply,
the tax terms and the pricing date); `price_quote` does the rest.

Which rule sets the price (first match wins, per line):
1. a contracted price for the account (or, failing that, its parent, then grandparent…);
   no tier or promotion applies on top of a contract;
2. otherwise a bundle price for a bundle product;
3. otherwise a volume rule — graduated tiers, all-units tiers or block pricing — set on
   the product, or failing that on its family, then the family's parent and so on; a
   rule limited to the price book beats one valid for every book of the currency;
4. otherwise the list price (for a bundle without its own entry: the sum of its
   components' list prices).
Then the best promotion valid on the date (product, family chain or catalogue-wide;
promotions do not stack), then the rep's manual discount.

Tiers. A tier "from quantity m" covers the units after the first m − 1: with tiers
1 → 100 and 11 → 90, graduated pricing prices units 1–10 at 100 and every unit from the
11th at 90 (10 units = 1,000; 11 units = 1,090); all-units pricing prices every unit at
the tier the last unit falls in (11 units = 990); block pricing charges the tier's price
flat for any quantity in its range (the last range is open-ended). Quantities below the
first tier pay the list price.

Rounding (one rule, everywhere):
- Unit prices (list, net, floor, cost) are shown with 4 decimals (half to even).
- A line's amount is computed exactly (quantity × price, tier sums, percent discounts
  applied as exact factors) and rounded once, half to even, to the currency's minor
  units. `net_unit_price` is that exact amount ÷ quantity shown with 4 decimals.
- Tax is computed per line from the rounded amount and rounded half to even: on the net
  amount when prices exclude tax; when they include it, the tax contained in the gross
  amount (amount × rate ÷ (100 + rate)) and the net is the gross less that tax. Unit
  prices and `list_amount` are in the price book's own terms (gross when prices include
  tax); `line_net` is always without tax.
- Quote totals are sums of the rounded line figures, so they always add up:
  subtotal = Σ line_net, tax_total = Σ tax_amount, total = Σ line_total =
  subtotal + tax_total, discount_total = Σ (list_amount − amount).

Currency conversion (`convert`): a pair's rate is stored in one direction only;
converting the other way divides by the same rate; each conversion is rounded half to
even to the target currency's minor units. Converting a → b and back therefore differs
from a by at most half a minor unit of b (worth mb ÷ rate in a) plus half a minor unit
of a; since the result is a whole number of a's minor units, the round trip is within
one minor unit of a whenever b's minor unit is worth less than three of a's (EUR ↔ USD,
USD → JPY, JPY → EUR at any usual rate…), and in every case within one minor unit of
the coarser of the two currencies.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

HUNDRED = Decimal(100)
ZERO = Decimal(0)
UNIT_PLACES = 4
MAX_QUANTITY = Decimal("1000000000")
PRECISION = 50  # digits kept while a line is computed exactly (amounts up to 1e15 × 1e9)


# --- requests and results --------------------------------------------------------------------


@dataclass(frozen=True)
class LineRequest:
    """One line the rep wants priced: a product, a quantity and an optional extra manual
    discount in percent (0–100) on top of whatever the rules give."""

    product_id: int
    quantity: Decimal
    discount_pct: Decimal = Decimal(0)


@dataclass(frozen=True)
class PricedLine:
    """A priced line. Unit prices have 4 decimals; amounts are rounded to minor units."""

    index: int
    product_id: int
    sku: str
    name: str
    unit: str
    quantity: Decimal
    list_unit_price: Decimal
    net_unit_price: Decimal
    discount_pct: Decimal          # effective discount off list, percent (2 decimals)
    line_net: Decimal              # excl. tax, rounded to minor units
    tax_rate: Decimal              # percent
    tax_amount: Decimal
    line_total: Decimal            # line_net + tax_amount
    unit_cost: Decimal
    margin: Decimal                # line_net − quantity × unit_cost (rounded)
    margin_pct: Decimal | None     # margin ÷ line_net, percent (None when line_net is 0)
    floor_price: Decimal | None    # per unit, in the book's terms
    below_floor: bool
    below_min_margin: bool
    explanation: tuple[str, ...]
    list_amount: Decimal = ZERO    # quantity × list price, rounded (book terms)
    min_margin_pct: Decimal | None = None
    rule_ids: tuple[int, ...] = ()  # the pricing rules that changed the price


@dataclass(frozen=True)
class PricedQuote:
    """The priced lines and their totals; totals are sums of the rounded lines."""

    currency: str
    price_book_id: int | None
    lines: tuple[PricedLine, ...]
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    prices_include_tax: bool
    max_discount_pct: Decimal      # deepest effective line discount (0 without lines)
    min_margin_pct: Decimal | None  # lowest line margin percent (None without one)
    tax_label: str = ""


# --- the context the caller gathers ----------------------------------------------------------


@dataclass(frozen=True)
class Family:
    id: int
    name: str
    parent_id: int | None = None
    max_discount_pct: Decimal | None = None
    min_margin_pct: Decimal | None = None


@dataclass(frozen=True)
class Product:
    id: int
    sku: str
    name: str
    family_id: int
    unit: str = "each"
    unit_cost: Decimal = ZERO      # already in the quote currency
    max_discount_pct: Decimal | None = None
    min_margin_pct: Decimal | None = None
    components: tuple[tuple[int, Decimal], ...] = ()  # a bundle's (product id, quantity)


@dataclass(frozen=True)
class Entry:
    """A product's list price as found in a price book (`book` names it)."""

    list_price: Decimal
    book: str
    floor_price: Decimal | None = None
    fallback: bool = False         # found in the standard book, not the one asked for


@dataclass(frozen=True)
class Tier:
    min_quantity: Decimal
    price: Decimal


GRADUATED, ALL_UNITS, BLOCK = "graduated", "all_units", "block"
CONTRACT, PROMOTION, BUNDLE = "contract", "promotion", "bundle"
VOLUME_KINDS = (GRADUATED, ALL_UNITS, BLOCK)


@dataclass(frozen=True)
class Rule:
    """A pricing rule as plain data (see `salesplan.pricing.models.PricingRule`)."""

    id: int
    name: str
    kind: str
    product_id: int | None = None
    family_id: int | None = None
    account_id: int | None = None
    price_book_id: int | None = None
    currency: str = ""
    unit_price: Decimal | None = None
    discount_pct: Decimal | None = None
    min_quantity: Decimal | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    tiers: tuple[Tier, ...] = ()

    def valid_on(self, day: date) -> bool:
        return ((self.valid_from is None or self.valid_from <= day)
                and (self.valid_to is None or day <= self.valid_to))


@dataclass(frozen=True)
class TaxTerms:
    rate: Decimal                  # percent
    prices_include_tax: bool = False
    label: str = ""


@dataclass(frozen=True)
class PricingContext:
    currency: str
    minor_units: int
    on_date: date
    products: Mapping[int, Product]
    entries: Mapping[int, Entry]
    families: Mapping[int, Family] = field(default_factory=dict)
    rules: Sequence[Rule] = ()
    tax: TaxTerms | None = None
    price_book_id: int | None = None
    account_ids: tuple[int, ...] = ()   # the account, then its parent, grandparent…
    account_names: Mapping[int, str] = field(default_factory=dict)


class PricingErrors(Exception):
    """Lines that cannot be priced: {"lines[3].quantity": ["…"], …}."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


# --- rounding and conversion -----------------------------------------------------------------


_EXPONENTS = {places: Decimal(1).scaleb(-places) for places in range(0, 13)}


def round_to(amount: Decimal, places: int) -> Decimal:
    """Half-to-even rounding to `places` decimals."""
    exponent = _EXPONENTS.get(places) or Decimal(1).scaleb(-places)
    return amount.quantize(exponent, rounding=ROUND_HALF_EVEN)


def convert(amount: Decimal, *, rate: Decimal, inverse: bool = False,
            minor_units: int = 2) -> Decimal:
    """Convert with a stored rate (1 base = rate quote): base → quote multiplies, quote →
    base (`inverse`) divides by the same rate; rounded to the target's minor units."""
    if rate <= 0:
        raise ValueError("An exchange rate is positive.")
    with localcontext(prec=40):
        value = amount / rate if inverse else amount * rate
    return round_to(value, minor_units)


def money(amount: Decimal, currency: str, places: int) -> str:
    return f"{amount:,.{places}f} {currency}"


def _qty(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text


# --- validation ------------------------------------------------------------------------------


def validate_lines(lines: Sequence[LineRequest]) -> dict[str, list[str]]:
    """The errors in the lines themselves (before any price is looked up)."""
    errors: dict[str, list[str]] = {}
    for i, line in enumerate(lines):
        q, d = line.quantity, line.discount_pct
        if not isinstance(q, Decimal) or not q.is_finite():
            errors[f"lines[{i}].quantity"] = ["Quantity must be a number."]
        elif q <= 0:
            errors[f"lines[{i}].quantity"] = ["Quantity must be positive."]
        elif q > MAX_QUANTITY:
            errors[f"lines[{i}].quantity"] = [f"Quantity must be at most {MAX_QUANTITY:,}."]
        elif q != round_to(q, UNIT_PLACES):
            errors[f"lines[{i}].quantity"] = ["Quantity has at most 4 decimal places."]
        if not isinstance(d, Decimal) or not d.is_finite():
            errors[f"lines[{i}].discount_pct"] = ["Discount must be a number."]
        elif d < 0 or d > HUNDRED:
            errors[f"lines[{i}].discount_pct"] = ["Discount must be between 0% and 100%."]
        elif d != round_to(d, UNIT_PLACES):
            errors[f"lines[{i}].discount_pct"] = ["Discount has at most 4 decimal places."]
    return errors


# --- rule selection --------------------------------------------------------------------------


def family_chain(ctx: PricingContext, family_id: int) -> list[Family]:
    """The product's family, its parent, grandparent… (cycles are cut)."""
    chain: list[Family] = []
    seen: set[int] = set()
    current: int | None = family_id
    while current is not None and current not in seen and current in ctx.families:
        seen.add(current)
        family = ctx.families[current]
        chain.append(family)
        current = family.parent_id
    return chain


def _applies_to_book(rule: Rule, ctx: PricingContext) -> bool:
    if rule.price_book_id is not None and rule.price_book_id != ctx.price_book_id:
        return False
    return not rule.currency or rule.currency == ctx.currency


def _scope_rank(rule: Rule, product: Product, chain: list[Family]) -> int | None:
    """0 for the product itself, 1 + depth for a family of the chain, None otherwise;
    catalogue-wide rules (no product, no family) rank after every family."""
    if rule.product_id is not None:
        return 0 if rule.product_id == product.id else None
    if rule.family_id is not None:
        for depth, family in enumerate(chain):
            if family.id == rule.family_id:
                return 1 + depth
        return None
    return 1 + len(chain)


@dataclass
class _Candidates:
    contract: Rule | None = None
    bundle: Rule | None = None
    volume: Rule | None = None
    promotions: list[Rule] = field(default_factory=list)


class RuleIndex:
    """The usable rules (valid on the date, for this book and currency) by the product or
    family they name, so each line looks only at the rules that could touch it."""

    def __init__(self, ctx: PricingContext):
        self.by_product: dict[int, list[Rule]] = {}
        self.by_family: dict[int, list[Rule]] = {}
        self.everywhere: list[Rule] = []
        self._chains: dict[int, list[Family]] = {}
        self.terms: dict[int, _ProductTerms] = {}
        for rule in ctx.rules:
            if not rule.valid_on(ctx.on_date) or not _applies_to_book(rule, ctx):
                continue
            if rule.product_id is not None:
                self.by_product.setdefault(rule.product_id, []).append(rule)
            elif rule.family_id is not None:
                self.by_family.setdefault(rule.family_id, []).append(rule)
            else:
                self.everywhere.append(rule)

    def chain(self, ctx: "PricingContext", family_id: int) -> list[Family]:
        """The family chain, worked out once per family per quote."""
        if family_id not in self._chains:
            self._chains[family_id] = family_chain(ctx, family_id)
        return self._chains[family_id]

    def for_product(self, product: "Product", chain: list[Family]) -> list[Rule]:
        found = list(self.by_product.get(product.id, ()))
        for family in chain:
            found.extend(self.by_family.get(family.id, ()))
        found.extend(self.everywhere)
        return found


def candidates(ctx: PricingContext, product: Product, chain: list[Family],
               index: RuleIndex | None = None) -> _Candidates:
    """The rules that could set this product's price, the winner of each kind chosen."""
    found = _Candidates()
    best_contract: tuple[int, int] | None = None
    best_volume: tuple[int, int, int] | None = None
    rules = (index or RuleIndex(ctx)).for_product(product, chain)
    for rule in rules:
        if not rule.valid_on(ctx.on_date) or not _applies_to_book(rule, ctx):
            continue
        if rule.kind == CONTRACT:
            if rule.product_id != product.id or rule.account_id not in ctx.account_ids:
                continue
            key = (ctx.account_ids.index(rule.account_id), rule.id)
            if best_contract is None or key < best_contract:
                best_contract, found.contract = key, rule
        elif rule.kind == BUNDLE:
            if rule.product_id == product.id and product.components and (
                    found.bundle is None or _book_first(rule, found.bundle)):
                found.bundle = rule
        elif rule.kind in VOLUME_KINDS:
            rank = _scope_rank(rule, product, chain)
            # A bundle is priced as a whole: only tiers set on the bundle itself apply.
            if rank is None or not rule.tiers or (rank > 0 and product.components):
                continue
            vkey = (rank, 0 if rule.price_book_id is not None else 1, rule.id)
            if best_volume is None or vkey < best_volume:
                best_volume, found.volume = vkey, rule
        elif rule.kind == PROMOTION and _scope_rank(rule, product, chain) is not None:
            found.promotions.append(rule)
    return found


def _book_first(rule: Rule, other: Rule) -> bool:
    mine = (0 if rule.price_book_id is not None else 1, rule.id)
    theirs = (0 if other.price_book_id is not None else 1, other.id)
    return mine < theirs


# --- tiers -----------------------------------------------------------------------------------


def _sorted_tiers(rule: Rule) -> list[Tier]:
    return sorted(rule.tiers, key=lambda t: t.min_quantity)


def _start(tier: Tier) -> Decimal:
    """The quantity after which a tier starts: "from unit m" starts after m − 1 units."""
    return max(ZERO, tier.min_quantity - 1)


def graduated_amount(tiers: Sequence[Tier], quantity: Decimal,
                     list_price: Decimal) -> tuple[Decimal, list[tuple[Decimal, Decimal]]]:
    """Each unit priced by its tier; the (units, price) parts, list price below tier 1."""
    ordered = sorted(tiers, key=lambda t: t.min_quantity)
    parts: list[tuple[Decimal, Decimal]] = []
    first = _start(ordered[0])
    if quantity > first and first > 0:
        parts.append((first, list_price))
    elif quantity <= first:
        return quantity * list_price, [(quantity, list_price)]
    for i, tier in enumerate(ordered):
        lower = _start(tier)
        upper = _start(ordered[i + 1]) if i + 1 < len(ordered) else None
        if quantity <= lower:
            break
        units = (min(quantity, upper) if upper is not None else quantity) - lower
        if units > 0:
            parts.append((units, tier.price))
    return sum((u * p for u, p in parts), ZERO), parts


def tier_for(tiers: Sequence[Tier], quantity: Decimal) -> Tier | None:
    """The tier the last unit of `quantity` falls in (None below the first tier)."""
    chosen = None
    for tier in sorted(tiers, key=lambda t: t.min_quantity):
        if quantity > _start(tier):
            chosen = tier
    return chosen


# --- pricing one line ------------------------------------------------------------------------


@dataclass
class _Line:
    """The working state of one line while the rules are applied."""

    explanation: list[str] = field(default_factory=list)
    rule_ids: list[int] = field(default_factory=list)


def _list_price(ctx: PricingContext, product: Product, index: int,
                notes: _Line, errors: dict[str, list[str]]) -> tuple[Decimal, Entry | None] | None:
    c, p = ctx.currency, UNIT_PLACES
    entry = ctx.entries.get(product.id)
    if entry is not None:
        where = f"price book “{entry.book}”"
        if entry.fallback:
            where = f"the standard price book “{entry.book}” (the account's book does not list it)"
        notes.explanation.append(
            f"List price {money(entry.list_price, c, p)} per {product.unit} from {where}.")
        return entry.list_price, entry
    if product.components:
        missing = [pid for pid, _ in product.components if pid not in ctx.entries]
        if not missing:
            total = sum((ctx.entries[pid].list_price * qty for pid, qty in product.components),
                        ZERO)
            parts = " + ".join(
                f"{_qty(qty)} × {ctx.products[pid].sku if pid in ctx.products else pid}"
                for pid, qty in product.components)
            notes.explanation.append(
                f"Bundle list price {money(total, c, p)}: the sum of its components "
                f"({parts}) at their list prices.")
            return total, None
    errors[f"lines[{index}].product_id"] = [
        f"{product.sku} has no price in the price book for {c}."]
    return None


def _base_amount(ctx: PricingContext, product: Product, quantity: Decimal,
                 list_price: Decimal, found: _Candidates, notes: _Line) -> Decimal:
    """The line's amount before promotions and the manual discount, exactly."""
    c, p = ctx.currency, UNIT_PLACES
    if found.contract is not None and found.contract.unit_price is not None:
        rule, price = found.contract, found.contract.unit_price
        who = ctx.account_names.get(rule.account_id or 0, "the account")
        if ctx.account_ids and rule.account_id != ctx.account_ids[0]:
            who += " (the parent account)"
        until = f", valid to {rule.valid_to.isoformat()}" if rule.valid_to else ""
        notes.explanation.append(
            f"Contracted price {money(price, c, p)} per {product.unit} for {who} "
            f"(“{rule.name}”{until}); volume tiers and promotions do not apply.")
        notes.rule_ids.append(rule.id)
        return quantity * price
    if found.bundle is not None and found.bundle.unit_price is not None:
        rule, price = found.bundle, found.bundle.unit_price
        notes.explanation.append(
            f"Bundle price {money(price, c, p)} per bundle (“{rule.name}”).")
        notes.rule_ids.append(rule.id)
        return quantity * price
    if found.volume is not None:
        return _volume_amount(ctx, found.volume, quantity, list_price, notes)
    return quantity * list_price


def _volume_amount(ctx: PricingContext, rule: Rule, quantity: Decimal, list_price: Decimal,
                   notes: _Line) -> Decimal:
    c, p = ctx.currency, UNIT_PLACES
    tiers = _sorted_tiers(rule)
    tier = tier_for(tiers, quantity)
    if tier is None:
        notes.explanation.append(
            f"“{rule.name}”: {_qty(quantity)} is below its first tier "
            f"(from {_qty(tiers[0].min_quantity)}); list price applies.")
        return quantity * list_price
    notes.rule_ids.append(rule.id)
    if rule.kind == GRADUATED:
        amount, parts = graduated_amount(tiers, quantity, list_price)
        shown = " + ".join(f"{_qty(u)} × {money(pr, c, p)}" for u, pr in parts)
        notes.explanation.append(
            f"Volume tiers “{rule.name}” (each unit priced by its tier): {shown} = "
            f"{money(amount, c, ctx.minor_units)}.")
        return amount
    if rule.kind == ALL_UNITS:
        notes.explanation.append(
            f"All-units volume pricing “{rule.name}”: {_qty(quantity)} units reach the tier "
            f"from {_qty(tier.min_quantity)}, so every unit is {money(tier.price, c, p)}.")
        return quantity * tier.price
    notes.explanation.append(
        f"Block pricing “{rule.name}”: {_qty(quantity)} units fall in the block from "
        f"{_qty(tier.min_quantity)}, priced {money(tier.price, c, p)} flat.")
    return tier.price


def _best_promotion(ctx: PricingContext, quantity: Decimal, found: _Candidates,
                    notes: _Line) -> Decimal:
    """The factor of the best promotion (promotions do not stack)."""
    usable = [r for r in found.promotions
              if r.discount_pct is not None and (r.min_quantity is None
                                                  or quantity >= r.min_quantity)]
    if not usable:
        return Decimal(1)
    best = max(usable, key=lambda r: (r.discount_pct or ZERO, -r.id))
    pct = best.discount_pct or ZERO
    until = f", until {best.valid_to.isoformat()}" if best.valid_to else ""
    others = len(usable) - 1
    tail = (f"; {others} other promotion{'s' if others > 1 else ''} not applied (the best "
            "one applies, promotions do not stack)") if others else ""
    notes.explanation.append(f"Promotion “{best.name}”: {_pct(pct)} off{until}{tail}.")
    notes.rule_ids.append(best.id)
    return 1 - pct / HUNDRED


def _pct(value: Decimal) -> str:
    return f"{value.normalize():f}%"


def _guard_rails(product: Product, chain: list[Family]
                 ) -> tuple[tuple[Decimal, str] | None, tuple[Decimal, str] | None]:
    """(max discount %, whose) and (min margin %, whose): the product's, else the
    nearest family's that sets one."""
    max_discount = ((product.max_discount_pct, f"product {product.sku}")
                    if product.max_discount_pct is not None else None)
    min_margin = ((product.min_margin_pct, f"product {product.sku}")
                  if product.min_margin_pct is not None else None)
    for family in chain:
        if max_discount is None and family.max_discount_pct is not None:
            max_discount = (family.max_discount_pct, f"family {family.name}")
        if min_margin is None and family.min_margin_pct is not None:
            min_margin = (family.min_margin_pct, f"family {family.name}")
    return max_discount, min_margin


def _floor(list_price: Decimal, entry: Entry | None, max_discount: tuple[Decimal, str] | None
           ) -> tuple[Decimal | None, str]:
    floors: list[tuple[Decimal, str]] = []
    if entry is not None and entry.floor_price is not None:
        floors.append((entry.floor_price, f"floor price in “{entry.book}”"))
    if max_discount is not None:
        value = round_to(list_price * (1 - max_discount[0] / HUNDRED), UNIT_PLACES)
        floors.append((value, f"list less the {_pct(max_discount[0])} maximum discount "
                              f"of {max_discount[1]}"))
    if not floors:
        return None, ""
    return max(floors, key=lambda f: f[0])


def _unit_cost(ctx: PricingContext, product: Product) -> Decimal:
    if product.unit_cost or not product.components:
        return product.unit_cost
    return sum((ctx.products[pid].unit_cost * qty for pid, qty in product.components
                if pid in ctx.products), ZERO)


@dataclass
class _ProductTerms:
    """What does not depend on the line's quantity, worked out once per product."""

    list_price: Decimal
    entry: Entry | None
    list_note: str
    chain: list[Family]
    found: _Candidates
    max_discount: tuple[Decimal, str] | None
    min_margin: tuple[Decimal, str] | None
    floor_price: Decimal | None
    floor_why: str
    unit_cost: Decimal


def _terms(ctx: PricingContext, product: Product, index: int, errors: dict[str, list[str]],
           rules: RuleIndex) -> _ProductTerms | None:
    cached = rules.terms.get(product.id)
    if cached is not None:
        return cached
    notes = _Line()
    listed = _list_price(ctx, product, index, notes, errors)
    if listed is None:
        return None
    list_price, entry = listed
    chain = rules.chain(ctx, product.family_id)
    max_discount, min_margin = _guard_rails(product, chain)
    floor_price, floor_why = _floor(list_price, entry, max_discount)
    terms = _ProductTerms(
        list_price=list_price, entry=entry, list_note=notes.explanation[0], chain=chain,
        found=candidates(ctx, product, chain, rules), max_discount=max_discount,
        min_margin=min_margin, floor_price=floor_price, floor_why=floor_why,
        unit_cost=round_to(_unit_cost(ctx, product), UNIT_PLACES))
    rules.terms[product.id] = terms
    return terms


def price_line(ctx: PricingContext, index: int, line: LineRequest,
               errors: dict[str, list[str]], rules: RuleIndex | None = None
               ) -> PricedLine | None:
    """Price one line (None, with `errors` filled, when it cannot be priced)."""
    product = ctx.products.get(line.product_id)
    if product is None:
        errors[f"lines[{index}].product_id"] = [f"Unknown product {line.product_id}."]
        return None
    rules = rules or RuleIndex(ctx)
    terms = _terms(ctx, product, index, errors, rules)
    if terms is None:
        return None
    notes = _Line(explanation=[terms.list_note])
    list_price, found, unit_cost = terms.list_price, terms.found, terms.unit_cost
    q, places, c = line.quantity, ctx.minor_units, ctx.currency
    # Exact arithmetic: price_quote runs the lines in a decimal context of PRECISION digits.
    exact = _base_amount(ctx, product, q, list_price, found, notes)
    if found.contract is None:
        exact *= _best_promotion(ctx, q, found, notes)
    if line.discount_pct:
        exact *= 1 - line.discount_pct / HUNDRED
        notes.explanation.append(f"Manual discount {_pct(line.discount_pct)}.")
    amount = round_to(exact, places)
    list_exact = q * list_price
    list_amount = round_to(list_exact, places)
    discount_pct = (round_to((1 - exact / list_exact) * HUNDRED, 2)
                    if list_exact else ZERO)
    net_unit = round_to(exact / q, UNIT_PLACES)
    tax_rate = ctx.tax.rate if ctx.tax else ZERO
    if ctx.tax and ctx.tax.prices_include_tax:
        tax = round_to(amount * tax_rate / (HUNDRED + tax_rate), places)
        line_net, line_total = amount - tax, amount
    else:
        tax = round_to(amount * tax_rate / HUNDRED, places)
        line_net, line_total = amount, amount + tax
    margin = line_net - round_to(q * unit_cost, places)
    margin_ratio = margin / line_net * HUNDRED if line_net else None
    margin_pct = round_to(margin_ratio, 2) if margin_ratio is not None else None
    min_margin, floor_price, floor_why = terms.min_margin, terms.floor_price, terms.floor_why
    below_floor = floor_price is not None and exact < q * floor_price
    min_margin_pct = min_margin[0] if min_margin else None
    below_margin = min_margin is not None and (
        margin < 0 if margin_ratio is None else margin_ratio < min_margin[0])
    ex = notes.explanation
    if ctx.tax:
        basis = "included in the prices" if ctx.tax.prices_include_tax else "on the net"
        ex.append(f"Tax {_pct(tax_rate)}{' ' + ctx.tax.label if ctx.tax.label else ''} "
                  f"({basis}): {money(tax, c, places)}.")
    if below_floor and floor_price is not None:
        ex.append(f"Below the floor price {money(floor_price, c, UNIT_PLACES)} "
                  f"({floor_why}): needs an approval.")
    if below_margin and min_margin is not None:
        shown = f"{margin_pct}%" if margin_pct is not None else "no margin"
        ex.append(f"Margin {shown} is below the {_pct(min_margin[0])} minimum of "
                  f"{min_margin[1]}: needs an approval.")
    return PricedLine(
        index=index, product_id=product.id, sku=product.sku, name=product.name,
        unit=product.unit, quantity=q, list_unit_price=round_to(list_price, UNIT_PLACES),
        net_unit_price=net_unit, discount_pct=discount_pct, line_net=line_net,
        tax_rate=tax_rate, tax_amount=tax, line_total=line_total, unit_cost=unit_cost,
        margin=margin, margin_pct=margin_pct, floor_price=floor_price,
        below_floor=below_floor, below_min_margin=below_margin, explanation=tuple(ex),
        list_amount=list_amount, min_margin_pct=min_margin_pct,
        rule_ids=tuple(notes.rule_ids))


def price_quote(ctx: PricingContext, lines: Sequence[LineRequest]) -> PricedQuote:
    """Price every line; raise PricingErrors naming each bad line and field."""
    errors = validate_lines(lines)
    priced: list[PricedLine] = []
    rules = RuleIndex(ctx)
    bad = {key.split(".")[0] for key in errors}
    with localcontext(prec=PRECISION):
        for i, line in enumerate(lines):
            if f"lines[{i}]" in bad:
                continue
            result = price_line(ctx, i, line, errors, rules)
            if result is not None:
                priced.append(result)
    if errors:
        raise PricingErrors(errors)
    zero = round_to(ZERO, ctx.minor_units)
    subtotal = sum((p.line_net for p in priced), zero)
    tax_total = sum((p.tax_amount for p in priced), zero)
    margins = [p.margin_pct for p in priced if p.margin_pct is not None]
    return PricedQuote(
        currency=ctx.currency, price_book_id=ctx.price_book_id, lines=tuple(priced),
        subtotal=subtotal,
        discount_total=sum((p.list_amount - (p.line_total if ctx.tax and
                                             ctx.tax.prices_include_tax else p.line_net)
                            for p in priced), zero),
        tax_total=tax_total, total=sum((p.line_total for p in priced), zero),
        prices_include_tax=bool(ctx.tax and ctx.tax.prices_include_tax),
        max_discount_pct=max((p.discount_pct for p in priced), default=Decimal("0.00")),
        min_margin_pct=min(margins) if margins else None,
        tax_label=ctx.tax.label if ctx.tax else "")
