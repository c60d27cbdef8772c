"""Lead scoring: fit/engagement rules and a predictive model of conversion.

Pure numerical code (numpy, scikit-learn), no Django. The caller hands over plain rows
(one mapping of field -> value per lead) and gets numbers and reasons back.

Rules: each rule gives `points` when its condition holds for the lead; the fit points and
the engagement points are summed separately and the total becomes a grade A–D.

Predictive score: a logistic regression on one-hot categories and standardised numbers,
trained on converted (1) vs disqualified (0) leads. Accuracy and calibration are measured
on a stratified held-out share the model never saw. The model is kept as plain numbers
(intercept, one coefficient per named feature, the vocabularies and scalers) so it can be
stored as JSON and each lead's logit splits exactly into the intercept plus one
contribution per feature: those contributions are the reasons for its score.
"""

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# --- Rules -----------------------------------------------------------------------------

TEXT_OPERATORS = ("equals", "not_equals", "in", "not_in", "contains", "is_set")
NUMBER_OPERATORS = ("equals", "at_least", "at_most", "between", "is_set")
OPERATOR_LABELS = {
    "equals": "is", "not_equals": "is not", "in": "is one of", "not_in": "is none of",
    "contains": "contains", "is_set": "is filled in", "at_least": "is at least",
    "at_most": "is at most", "between": "is between",
}
GRADE_FLOORS = (("A", 60), ("B", 40), ("C", 20))  # total points at or above -> grade


class RuleError(ValueError):
    """A rule that cannot be evaluated; `field` names the part that is wrong."""

    def __init__(self, field_name: str, message: str):
        self.field = field_name
        super().__init__(message)


@dataclass(frozen=True)
class Rule:
    """One scoring rule, already checked: `value` parsed for its operator."""

    kind: str  # "fit" or "engagement"
    field: str
    operator: str
    value: Any
    points: int
    label: str = ""


def parse_rule_value(operator: str, raw: str, *, numeric: bool) -> Any:
    """The rule's value as the operator needs it; RuleError(field="value") if it can't be."""
    allowed = NUMBER_OPERATORS if numeric else TEXT_OPERATORS
    if operator not in allowed:
        kind = "a number" if numeric else "a text"
        raise RuleError("operator", f"“{operator}” does not apply to {kind} field; use one "
                                    f"of: {', '.join(allowed)}.")
    raw = (raw or "").strip()
    if operator == "is_set":
        return None
    if not raw:
        raise RuleError("value", "Give a value for this rule.")
    if not numeric:
        if operator in ("in", "not_in"):
            items = tuple(p.strip().lower() for p in raw.split(",") if p.strip())
            if not items:
                raise RuleError("value", "List the values separated by commas.")
            return items
        return raw.lower()
    if operator == "between":
        parts = [p.strip() for p in raw.replace("..", "-").split("-") if p.strip()]
        if len(parts) != 2:
            raise RuleError("value", "Give a range as LOW-HIGH, e.g. 50-500.")
        low, high = (_number(p) for p in parts)
        if low > high:
            raise RuleError("value", f"The range starts above its end ({low:g} > {high:g}).")
        return (low, high)
    return _number(raw)


def _number(text: str) -> float:
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        raise RuleError("value", f"“{text}” is not a number.") from None
    if not math.isfinite(value):
        raise RuleError("value", f"“{text}” is not a number.")
    return value


def rule_holds(rule: Rule, value: Any) -> bool:
    op = rule.operator
    if op == "is_set":
        return value not in (None, "")
    if value is None or value == "":
        return op in ("not_equals", "not_in")
    if op == "between":
        low, high = rule.value
        return bool(low <= float(value) <= high)
    if isinstance(rule.value, float):
        number, limit = float(value), float(rule.value)
        if op == "at_least":
            return number >= limit
        if op == "at_most":
            return number <= limit
        return number == limit
    text = str(value).strip().lower()
    if op == "equals":
        return text == rule.value
    if op == "not_equals":
        return text != rule.value
    if op == "in":
        return text in rule.value
    if op == "not_in":
        return text not in rule.value
    return rule.value in text  # contains


def describe(rule: Rule) -> str:
    if rule.label:
        return rule.label
    field_name = rule.field.replace("_", " ")
    value = rule.value
    if isinstance(value, tuple):
        shown = (f"{value[0]:g}–{value[1]:g}" if rule.operator == "between"
                 else ", ".join(value))
    elif isinstance(value, float):
        shown = f"{value:g}"
    else:
        shown = value or ""
    return f"{field_name} {OPERATOR_LABELS[rule.operator]} {shown}".strip()


@dataclass
class RuleScore:
    fit: int
    engagement: int
    reasons: list[dict]  # [{"kind", "rule", "points"}] for each rule that held

    @property
    def total(self) -> int:
        return self.fit + self.engagement


def score_by_rules(rules: Sequence[Rule], facts: Mapping[str, Any]) -> RuleScore:
    """Points from every rule whose condition holds for this lead's facts."""
    fit = engagement = 0
    reasons = []
    for rule in rules:
        if rule_holds(rule, facts.get(rule.field)):
            if rule.kind == "fit":
                fit += rule.points
            else:
                engagement += rule.points
            reasons.append({"kind": rule.kind, "rule": describe(rule), "points": rule.points})
    return RuleScore(fit, engagement, reasons)


def grade(total: int) -> str:
    for letter, floor in GRADE_FLOORS:
        if total >= floor:
            return letter
    return "D"


# --- Predictive model ------------------------------------------------------------------


class ThinHistory(Exception):
    """Too little history to train or trust a model; the message says what is missing."""


@dataclass(frozen=True)
class FeatureSpec:
    """Which facts the model reads: categories (one-hot) and numbers (log1p, scaled)."""

    categorical: tuple[str, ...]
    numeric: tuple[str, ...]
    min_category_count: int = 5  # rarer values fold into the baseline


@dataclass
class ScoringParameters:
    """A trained model as plain numbers (JSON-safe)."""

    intercept: float
    features: list[str]  # "industry=Healthcare", "employees"
    coefficients: list[float]
    vocabulary: dict[str, list[str]]  # categorical field -> kept values
    numeric: dict[str, list[float]]  # numeric field -> [mean, scale] of log1p(value)

    def to_json(self) -> dict:
        return {"intercept": self.intercept, "features": self.features,
                "coefficients": self.coefficients, "vocabulary": self.vocabulary,
                "numeric": self.numeric}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "ScoringParameters":
        features = list(data["features"])

        def first_column(name: str) -> int:
            # The encoder emits columns field by field in the mappings' order; a JSON
            # store may reorder keys (PostgreSQL's jsonb does), so restore the order the
            # features (and so the coefficients) were trained in.
            return next((i for i, f in enumerate(features)
                         if f == name or f.startswith(name + "=")), len(features))

        vocabulary = {k: list(v) for k, v in sorted(data["vocabulary"].items(),
                                                    key=lambda kv: first_column(kv[0]))}
        numeric = {k: [float(x) for x in v] for k, v in sorted(data["numeric"].items(),
                                                               key=lambda kv: first_column(kv[0]))}
        return cls(intercept=float(data["intercept"]), features=features,
                   coefficients=[float(c) for c in data["coefficients"]],
                   vocabulary=vocabulary, numeric=numeric)


@dataclass
class TrainingResult:
    parameters: ScoringParameters
    metrics: dict[str, float]  # auc, brier, log_loss, base_rate on held-out rows
    calibration: list[dict]  # one row per decile of predicted probability
    train_index: np.ndarray
    test_index: np.ndarray
    counts: dict[str, int] = field(default_factory=dict)


def _category(value: Any) -> str:
    return str(value).strip() if value not in (None, "") else ""


def fit_vocabulary(rows: Sequence[Mapping[str, Any]], spec: FeatureSpec) -> dict[str, list[str]]:
    vocabulary = {}
    for name in spec.categorical:
        counts = Counter(_category(r.get(name)) for r in rows)
        counts.pop("", None)
        vocabulary[name] = sorted(v for v, n in counts.items() if n >= spec.min_category_count)
    return vocabulary


def _numeric_column(rows: Sequence[Mapping[str, Any]], name: str) -> np.ndarray:
    values = np.fromiter((float(r.get(name) or 0.0) for r in rows), dtype=float,
                         count=len(rows))
    return np.log1p(np.clip(values, 0, None))


def encode(rows: Sequence[Mapping[str, Any]], vocabulary: Mapping[str, Sequence[str]],
           numeric: Mapping[str, Sequence[float]]) -> tuple[np.ndarray, list[str]]:
    """The design matrix (one row per lead) and the name of each column."""
    names: list[str] = []
    blocks: list[np.ndarray] = []
    n = len(rows)
    for name, values in vocabulary.items():
        index = {v: i for i, v in enumerate(values)}
        block = np.zeros((n, len(values)))
        for r, row in enumerate(rows):
            i = index.get(_category(row.get(name)))
            if i is not None:
                block[r, i] = 1.0
        blocks.append(block)
        names += [f"{name}={v}" for v in values]
    for name, (mean, scale) in numeric.items():
        blocks.append(((_numeric_column(rows, name) - mean) / scale).reshape(n, 1))
        names.append(name)
    matrix = np.hstack(blocks) if blocks else np.zeros((n, 0))
    return matrix, names


def check_history(labels: Sequence[int], *, min_per_class: int) -> None:
    """Raise ThinHistory naming what is missing when there are too few of either outcome."""
    positives = int(sum(1 for y in labels if y))
    negatives = len(labels) - positives
    missing = []
    if positives < min_per_class:
        missing.append(f"{positives} converted lead{'s' if positives != 1 else ''}")
    if negatives < min_per_class:
        missing.append(f"{negatives} disqualified lead{'s' if negatives != 1 else ''}")
    if missing:
        raise ThinHistory(
            f"Not enough history to predict conversion: only {' and '.join(missing)} "
            f"(at least {min_per_class} of each are needed, so that part can be held out "
            f"to measure accuracy).")


SPLITS = ("stratified", "time")


def split_history(labels: np.ndarray, *, split: str, test_fraction: float,
                  seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training rows and of the held-out rows (disjoint, sorted).

    "stratified": a random share keeping the conversion rate of the whole history.
    "time": the newest share (rows must come oldest first), as the model will be used:
    trained on the past, judged on what came after.
    """
    from sklearn.model_selection import train_test_split

    if split == "stratified":
        train_index, test_index = train_test_split(
            np.arange(len(labels)), test_size=test_fraction, stratify=labels,
            random_state=seed)
        return np.sort(train_index), np.sort(test_index)
    if split != "time":
        raise ValueError(f"Unknown split {split!r}; use one of {', '.join(SPLITS)}.")
    cut = len(labels) - max(1, round(len(labels) * test_fraction))
    train_index, test_index = np.arange(cut), np.arange(cut, len(labels))
    for name, part in (("training", train_index), ("held-out", test_index)):
        outcomes = set(labels[part].tolist())
        if outcomes != {0, 1}:
            missing = "converted" if 1 not in outcomes else "disqualified"
            raise ThinHistory(
                f"Not enough history to predict conversion: the {name} part of a time "
                f"split has no {missing} lead; hold out a different share or use a "
                f"stratified split.")
    return train_index, test_index


def train(rows: Sequence[Mapping[str, Any]], labels: Sequence[int], spec: FeatureSpec, *,
          min_per_class: int = 20, test_fraction: float = 0.25, seed: int = 0,
          regularisation: float = 1.0, split: str = "stratified") -> TrainingResult:
    """Fit on the training share, measure on the held-out rest (see `split_history`).

    Vocabularies and scalers are learnt from the training rows only, so nothing about the
    held-out rows leaks into the model that is evaluated on them.
    """
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(labels, dtype=int)
    check_history(y.tolist(), min_per_class=min_per_class)
    if not 0.05 <= test_fraction <= 0.5:
        raise ValueError("The held-out share must be between 5% and 50%.")
    train_index, test_index = split_history(y, split=split, test_fraction=test_fraction,
                                            seed=seed)
    train_rows = [rows[i] for i in train_index]
    vocabulary = fit_vocabulary(train_rows, spec)
    numeric = {}
    for name in spec.numeric:
        column = _numeric_column(train_rows, name)
        scale = float(column.std()) or 1.0
        numeric[name] = [float(column.mean()), scale]
    x_train, names = encode(train_rows, vocabulary, numeric)
    model = LogisticRegression(C=regularisation, max_iter=2000)
    model.fit(x_train, y[train_index])
    parameters = ScoringParameters(
        intercept=float(model.intercept_[0]), features=names,
        coefficients=[float(c) for c in model.coef_[0]], vocabulary=vocabulary,
        numeric=numeric)
    probabilities = predict(parameters, [rows[i] for i in test_index])
    metrics = evaluate(y[test_index], probabilities)
    return TrainingResult(
        parameters=parameters, metrics=metrics,
        calibration=calibration_table(y[test_index], probabilities),
        train_index=train_index, test_index=test_index,
        counts={"rows": len(rows), "converted": int(y.sum()),
                "disqualified": int(len(y) - y.sum()), "train_rows": len(train_index),
                "test_rows": len(test_index)})


def logits(parameters: ScoringParameters, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
    matrix, _ = encode(rows, parameters.vocabulary, parameters.numeric)
    return parameters.intercept + matrix @ np.asarray(parameters.coefficients)


def predict(parameters: ScoringParameters, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Probability of conversion for each row."""
    return 1.0 / (1.0 + np.exp(-logits(parameters, rows)))


def contributions(parameters: ScoringParameters,
                  rows: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, list[str]]:
    """Each feature's share of each row's logit: coefficient × encoded value. A row's
    contributions plus the intercept add up to its logit."""
    matrix, names = encode(rows, parameters.vocabulary, parameters.numeric)
    return matrix * np.asarray(parameters.coefficients), names


def top_reasons(row_contributions: np.ndarray, names: Sequence[str],
                limit: int = 4) -> list[dict]:
    """The features that moved this lead's score most, largest first."""
    order = np.argsort(-np.abs(row_contributions))[:limit]
    return [{"feature": names[i], "effect": round(float(row_contributions[i]), 4)}
            for i in order if abs(row_contributions[i]) >= 1e-6]


def score_rows(parameters: ScoringParameters, rows: Sequence[Mapping[str, Any]],
               limit: int = 4) -> Iterable[tuple[float, list[dict]]]:
    """(probability, main reasons) for each row, computed in one pass."""
    parts, names = contributions(parameters, rows)
    probabilities = 1.0 / (1.0 + np.exp(-(parameters.intercept + parts.sum(axis=1))))
    for i, probability in enumerate(probabilities):
        yield float(probability), top_reasons(parts[i], names, limit)


# --- Held-out measures -------------------------------------------------------------------


def evaluate(y_true: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """AUC, Brier score and log loss of the predictions against what happened."""
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    y_true = np.asarray(y_true, dtype=int)
    return {
        "auc": float(roc_auc_score(y_true, probabilities)),
        "brier": float(brier_score_loss(y_true, probabilities)),
        "log_loss": float(log_loss(y_true, probabilities, labels=[0, 1])),
        "base_rate": float(y_true.mean()),
        "rows": int(len(y_true)),
    }


def calibration_table(y_true: np.ndarray, probabilities: np.ndarray,
                      bins: int = 10) -> list[dict]:
    """Predicted against observed conversion by decile of predicted probability (rows
    sorted by prediction and cut into `bins` groups as equal as possible)."""
    y_true = np.asarray(y_true, dtype=int)
    order = np.argsort(probabilities, kind="stable")
    table = []
    for number, group in enumerate(np.array_split(order, min(bins, len(order))), start=1):
        if len(group) == 0:
            continue
        table.append({
            "decile": number, "rows": int(len(group)),
            "low": float(probabilities[group].min()), "high": float(probabilities[group].max()),
            "predicted": float(probabilities[group].mean()),
            "observed": float(y_true[group].mean()),
        })
    return table
