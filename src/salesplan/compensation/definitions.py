"""A plan's `definition` (JSON, as an admin writes it) turned into the engine's plan.

Amounts, rates, shares and attainments are strings of decimals ("0.05" is 5 %, "1.2" is
120 % attainment); quotas and bonus targets are per pay period; dates are ISO dates.

    {"clawback_days": 90, "draw": {"amount": "1000", "recoverable": true},
     "commissions": [{"key": "new", "label": "New business", "quota": "100000",
                      "method": "marginal", "gate": "0.5", "cap": "20000",
                      "tiers": [{"from": "0", "rate": "0.02"}, {"from": "1", "rate": "0.05"}],
                      "families": [], "deal_types": ["new_business"], "on_margin": false}],
     "bonuses": [{"key": "attain", "label": "Attainment bonus", "target": "100000",
                  "steps": [{"at": "1", "amount": "2000"}]}],
     "new_logo": {"amount": "500"},
     "spiffs": [{"key": "q1", "label": "Q1 push", "starts": "2026-01-01",
                 "ends": "2026-03-31", "amount": "250", "rate": "0", "campaigns": []}],
     "mbos": [{"key": "enablement", "label": "Enablement", "target": "1000",
               "max_score": "1.5"}]}

A mistake is a `ValidationError` on `definition` naming the place ("commissions[0].tiers:
tiers must start at increasing attainments")."""

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from salesplan.engines import compensation as engine

MAX_FIGURE = Decimal("1e12")  # amounts, quotas and targets
MAX_RATE = Decimal(10)  # rates and attainments: 1,000 %


class _Reader:
    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise _error(where, "must be an object")
        self.data, self.where = data, where

    def decimal(self, name: str, default: str | None = None,
                limit: Decimal = MAX_FIGURE) -> Decimal:
        raw = self.data.get(name, default)
        if raw is None:
            raise _error(self._at(name), "is required")
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            raise _error(self._at(name), f"{raw!r} is not a number") from None
        if not value.is_finite():
            raise _error(self._at(name), "must be a finite number")
        if abs(value) > limit:
            raise _error(self._at(name), f"must be at most {limit:,f} in size")
        if value != value.quantize(Decimal("1e-6")):
            raise _error(self._at(name), "has more than six decimals")
        return value

    def text(self, name: str, default: str | None = None) -> str:
        raw = self.data.get(name, default)
        if not isinstance(raw, str) or not raw.strip():
            raise _error(self._at(name), "is required")
        return raw.strip()

    def day(self, name: str) -> date:
        try:
            return date.fromisoformat(self.text(name))
        except ValueError:
            raise _error(self._at(name), "is not a date (YYYY-MM-DD)") from None

    def names(self, name: str) -> frozenset[str]:
        raw = self.data.get(name, [])
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            raise _error(self._at(name), "must be a list of names")
        return frozenset(raw)

    def items(self, name: str) -> list["_Reader"]:
        raw = self.data.get(name, [])
        if not isinstance(raw, list):
            raise _error(self._at(name), "must be a list")
        return [_Reader(item, f"{self._at(name)}[{i}]") for i, item in enumerate(raw)]

    def _at(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name


def _error(where: str, message: str) -> ValidationError:
    return ValidationError({"definition": f"{where}: {message}"})


def _engine_call(where: str, build):
    try:
        return build()
    except engine.PlanError as error:
        raise _error(where, f"{error.field}: {error.message}") from None


def _commission(item: _Reader) -> engine.Commission:
    tiers = tuple(engine.Tier(t.decimal("from", limit=MAX_RATE),
                              t.decimal("rate", limit=MAX_RATE)) for t in item.items("tiers"))
    cap = item.data.get("cap")
    method = item.data.get("method", "marginal")
    table = _engine_call(item.where, lambda: engine.RateTable(
        tiers, method, item.decimal("gate", "0", MAX_RATE),
        None if cap in (None, "") else item.decimal("cap")))
    return _engine_call(item.where, lambda: engine.Commission(
        item.text("key"), item.text("label"), table, item.decimal("quota"),
        item.names("families"), item.names("deal_types"), bool(item.data.get("on_margin"))))


def _mbo(item: _Reader) -> engine.Mbo:
    """An objective; `max_score` is the highest score a manager may give (1 is 100 %)."""
    max_score = item.decimal("max_score", "1", MAX_RATE)
    if max_score <= 0:
        raise _error(item._at("max_score"), "must be above 0")
    return engine.Mbo(item.text("key"), item.text("label"), item.decimal("target"), max_score)


def plan_from_definition(definition: Any, currency: str) -> engine.Plan:
    """The engine's plan for a stored definition; ValidationError naming the place."""
    root = _Reader(definition, "")
    commissions = tuple(_commission(item) for item in root.items("commissions"))
    bonuses = tuple(
        engine.AttainmentBonus(
            b.text("key"), b.text("label"), b.decimal("target"),
            tuple((s.decimal("at", limit=MAX_RATE), s.decimal("amount"))
                  for s in b.items("steps")),
            b.names("families"))
        for b in root.items("bonuses"))
    new_logo = None
    if root.data.get("new_logo"):
        logo = _Reader(root.data["new_logo"], "new_logo")
        new_logo = engine.NewLogoBonus("new_logo", logo.data.get("label", "New logo"),
                                       logo.decimal("amount"), logo.decimal("minimum_deal", "0"))
    spiffs = tuple(
        engine.Spiff(s.text("key"), s.text("label"), s.day("starts"), s.day("ends"),
                     s.decimal("amount", "0"), s.decimal("rate", "0", MAX_RATE),
                     s.names("products"), s.names("campaigns"))
        for s in root.items("spiffs"))
    mbos = tuple(_mbo(m) for m in root.items("mbos"))
    draw = None
    if root.data.get("draw"):
        raw = _Reader(root.data["draw"], "draw")
        draw = engine.Draw(raw.decimal("amount"), bool(raw.data.get("recoverable", True)))
    days = root.data.get("clawback_days", 0)
    if not isinstance(days, int) or days < 0:
        raise _error("clawback_days", "must be a whole number of days, 0 or more")
    keys = [c.key for c in commissions] + [b.key for b in bonuses] + [s.key for s in spiffs]
    keys += [m.key for m in mbos]
    if len(keys) != len(set(keys)):
        raise _error("commissions", "component keys must be unique")
    return engine.Plan(currency, commissions, bonuses, new_logo, spiffs, mbos, draw, days)
