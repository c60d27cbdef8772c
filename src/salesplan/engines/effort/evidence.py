"""What a segment's history says about its response curve, and how far to trust it.

A segment's history is a table of accounts × months: the calls each account had in each
month and what it booked. From it come
- the fitted curve, capped at the most effort the history holds (`fit_segment`): the
  curve is not extrapolated, so the plan never leans on effort nobody has tried;
- a held-out check (`held_out_error`): the curve fitted on the earlier months predicts
  the later ones, beside a naive forecast (the earlier months' average bookings, whatever
  the calls) measured on the same account-months;
- bootstrap replicates (`resample`): accounts and months drawn with replacement, seeded,
  for the range of the gain a plan claims.
"""

from dataclasses import dataclass

import numpy as np

from .curves import AdbudgCurve, CappedCurve, CurveError, FlatCurve, fit_adbudg


@dataclass(frozen=True)
class SegmentHistory:
    """effort[a, m], sales[a, m]: calls and bookings of account a in month m (oldest
    month first). Every account of the segment has a row, even with no calls.
    weight[a]: the account's potential against the segment's average (1 when unknown);
    the curve is per account of average potential, so it is fitted to sales ÷ weight —
    an account that books twice the average because it is twice as big then says
    nothing false about how calls pay."""

    effort: np.ndarray
    sales: np.ndarray
    weight: np.ndarray | None = None

    def __post_init__(self) -> None:
        effort = np.asarray(self.effort, dtype=float)
        sales = np.asarray(self.sales, dtype=float)
        if effort.ndim != 2 or effort.shape != sales.shape:
            raise CurveError(
                "Give calls and bookings as tables of accounts × months of the same shape."
            )
        weight = (
            np.ones(effort.shape[0])
            if self.weight is None
            else np.asarray(self.weight, dtype=float)
        )
        if weight.shape != (effort.shape[0],) or np.any(weight <= 0):
            raise CurveError("Give one potential weight above zero per account.")
        object.__setattr__(self, "effort", effort)
        object.__setattr__(self, "sales", sales)
        object.__setattr__(self, "weight", weight)

    @property
    def per_account(self) -> np.ndarray:
        """Sales of an account of average potential: sales ÷ weight."""
        return self.sales / np.asarray(self.weight)[:, None]

    @property
    def months(self) -> int:
        return self.effort.shape[1]

    @property
    def most_effort(self) -> float:
        return float(self.effort.max()) if self.effort.size else 0.0

    def current_effort(self) -> np.ndarray:
        """Each account's calls per month today: its average over the history."""
        if not self.months:
            return np.zeros(self.effort.shape[0])
        return self.effort.mean(axis=1)


@dataclass(frozen=True)
class HeldOut:
    """The curve fitted on the first `fit_months` months predicting the last
    `test_months`: root mean square error per account-month for the curve and for the
    naive forecast (the fit months' average bookings scaled by each account's potential,
    whatever the calls)."""

    fit_months: int
    test_months: int
    observations: int
    curve_error: float | None
    naive_error: float
    note: str = ""

    @property
    def beats_naive(self) -> bool:
        return self.curve_error is not None and self.curve_error < self.naive_error

    def as_dict(self) -> dict:
        return {
            "fit_months": self.fit_months,
            "test_months": self.test_months,
            "observations": self.observations,
            "curve_error": self.curve_error,
            "naive_error": self.naive_error,
            "beats_naive": self.beats_naive,
            "note": self.note,
        }


def held_out_months(months: int) -> int:
    """The latest quarter of the history (at least one month) is held out."""
    return max(1, months // 4)


def _rmse(predicted: np.ndarray, actual: np.ndarray) -> float:
    return float(np.sqrt(np.mean((predicted - actual) ** 2)))


def held_out_error(history: SegmentHistory, *, test_months: int | None = None) -> HeldOut | None:
    """Fit on the earlier months, predict the later ones; None if the history is too
    short to hold any month out."""
    months = history.months
    test = held_out_months(months) if test_months is None else int(test_months)
    fit = months - test
    if fit < 2 or test < 1 or history.effort.shape[0] == 0:
        return None
    norm = history.per_account
    weight = np.broadcast_to(np.asarray(history.weight)[:, None], history.effort.shape)
    x_fit, y_fit = history.effort[:, :fit].ravel(), norm[:, :fit].ravel()
    x_test, y_test = history.effort[:, fit:].ravel(), history.sales[:, fit:].ravel()
    w_test = weight[:, fit:].ravel()
    naive = _rmse(w_test * y_fit.mean(), y_test)
    try:
        curve = CappedCurve(fit_adbudg(x_fit, y_fit), float(x_fit.max()))
    except CurveError as exc:
        return HeldOut(
            fit,
            test,
            int(y_test.size),
            None,
            naive,
            f"No curve could be fitted on the first {fit} months: {exc}",
        )
    return HeldOut(fit, test, int(y_test.size), _rmse(w_test * curve(x_test), y_test), naive)


@dataclass(frozen=True)
class SegmentCurve:
    """The curve of a segment, the effort it is trusted up to, where it came from
    (history, judgement, or none: no rising curve fits) and its held-out check.
    `trusted`: the plan may move this segment's effort; otherwise it holds its accounts
    at today's effort and claims no gain for them."""

    curve: CappedCurve
    source: str  # "history", "judgement" or "none"
    error: str = ""
    held_out: HeldOut | None = None
    trusted: bool = True

    @property
    def cap(self) -> float:
        return self.curve.cap

    @property
    def responds(self) -> bool:
        return self.trusted


def trusted_up_to(most_seen: float, above_seen: float | None) -> float:
    """The most effort a curve is trusted at: the most seen, or — where a manager
    believes calls still pay beyond it — that share above it (0.3: 30% more)."""
    if above_seen is None:
        return float(most_seen)
    if not np.isfinite(above_seen) or above_seen < 0:
        raise CurveError("The effort believed to pay above the most seen cannot be negative.")
    return float(most_seen) * (1 + float(above_seen))


def fit_segment(
    history: SegmentHistory, *, require_held_out: bool = True, above_seen: float | None = None
) -> SegmentCurve:
    """The segment's curve from its history, capped at the most effort seen (or, with
    `above_seen`, at the manager's belief of how far above it calls still pay).

    Not trusted (the plan holds the segment's accounts at today's effort) when no
    rising curve fits, or — with `require_held_out` — when the curve fitted on the
    earlier months predicts the later ones no better than ignoring calls."""
    check = held_out_error(history)
    try:
        fitted = fit_adbudg(history.effort.ravel(), history.per_account.ravel())
    except CurveError as exc:
        flat = FlatCurve(float(history.sales.mean()) if history.sales.size else 0.0)
        return SegmentCurve(
            CappedCurve(flat, history.most_effort), "none", str(exc), check, trusted=False
        )
    capped = CappedCurve(fitted, trusted_up_to(history.most_effort, above_seen))
    if require_held_out and (check is None or not check.beats_naive):
        why = (
            check.note
            if check is not None and check.note
            else "Too short a history to hold months out and check the curve."
            if check is None
            else f"On the {check.test_months} latest months, held out of the fit, the curve "
            "predicted bookings no better than ignoring calls."
        )
        return SegmentCurve(capped, "history", why, check, trusted=False)
    return SegmentCurve(capped, "history", "", check)


def judged_segment(
    curve: AdbudgCurve, *, judged_up_to: float, history: SegmentHistory | None = None
) -> SegmentCurve:
    """A manager's curve, trusted up to the highest effort they judged or the most
    effort seen in the history, whichever is higher."""
    seen = history.most_effort if history is not None else 0.0
    check = held_out_error(history) if history is not None else None
    return SegmentCurve(CappedCurve(curve, max(float(judged_up_to), seen)), "judgement", "", check)


def resample(
    histories: list[SegmentHistory], rng: np.random.Generator
) -> tuple[list[SegmentHistory], list[np.ndarray]]:
    """One bootstrap replicate: the same months (drawn with replacement) for every
    segment, and each segment's accounts drawn with replacement. Returns the replicate
    histories and, per segment, which original accounts were drawn."""
    months = max((h.months for h in histories), default=0)
    drawn_months = np.asarray(rng.integers(0, months, months)) if months else np.zeros(0, dtype=int)
    out: list[SegmentHistory] = []
    rows: list[np.ndarray] = []
    for h in histories:
        accounts = h.effort.shape[0]
        drawn = (
            np.asarray(rng.integers(0, accounts, accounts)) if accounts else np.zeros(0, dtype=int)
        )
        cols = drawn_months[drawn_months < h.months]
        out.append(
            SegmentHistory(
                h.effort[np.ix_(drawn, cols)],
                h.sales[np.ix_(drawn, cols)],
                np.asarray(h.weight)[drawn],
            )
        )
        rows.append(drawn)
    return out, rows
