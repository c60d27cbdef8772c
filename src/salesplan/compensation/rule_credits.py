"""Overlay and manager roll-up credit for a whole period at once, as columns.

The same lines `calculation.Crediting` gives deal by deal, found with a few queries and
array joins however many deals the period holds:

- overlay: the overlay members of the territories the deal's account is assigned to in
  the alignment in effect on the close date (`territories.selectors.alignment_on`),
  whose membership covers that date (start and end dates, an open end running on), the
  owner excepted; a member of two of the account's territories is credited once. Each
  overlay rule in effect on the close date credits each of them its share.
- roll-up: every manager above the owner (`org.selectors.manager_chain`, looked up once
  per owner, not per deal); each roll-up rule in effect on the close date credits each
  of them its share.

Shares are in millionths, as the column path counts them."""

from dataclasses import dataclass
from datetime import date

import numpy as np
from django.core.exceptions import ValidationError

from salesplan.org import selectors as org_reads
from salesplan.org.models import User
from salesplan.territories import selectors as territory_reads

from .models import CompCreditRule, CreditKind

EPOCH = date(1970, 1, 1)
OPEN_END = np.iinfo(np.int64).max  # a membership with no end date
CHUNK = 20_000  # ids per query: SQLite's limit on parameters
KEY = 1 << 40  # an alignment and an account in one int64: alignment × KEY + account


@dataclass
class DealColumns:
    """What crediting reads of the period's won deals, one row per deal."""

    id: np.ndarray
    day: np.ndarray  # close date, days since 1970-01-01
    account: np.ndarray
    owner: np.ndarray


def _day_number(day: date | None) -> int:
    return OPEN_END if day is None else (day - EPOCH).days


def _day(number: int) -> date:
    return date.fromordinal(EPOCH.toordinal() + number)


def join(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (i, j) with left[i] == right[j], as two index arrays ordered by i."""
    order = np.argsort(right, kind="stable")
    ordered = right[order]
    low = np.searchsorted(ordered, left, "left")
    counts = np.searchsorted(ordered, left, "right") - low
    left_rows = np.repeat(np.arange(len(left)), counts)
    within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return left_rows, order[np.repeat(low, counts) + within]


def _in_chunks(queryset_for, ids: list[int], width: int) -> np.ndarray:
    parts = [np.zeros((0, width), dtype=np.int64)]
    for start in range(0, len(ids), CHUNK):
        rows = list(queryset_for(ids[start:start + CHUNK]))
        if rows:
            parts.append(np.array(rows, dtype=np.int64).reshape(-1, width))
    return np.concatenate(parts)


def _alignments(deals: DealColumns) -> np.ndarray:
    """Per deal, the alignment in effect on its close date (0 for none)."""
    history = territory_reads.alignment_history()
    if not history:
        alignment = territory_reads.alignment_on(EPOCH, history) or 0
        return np.full(len(deals.id), alignment, dtype=np.int64)
    firsts = np.array([_day_number(first) for first, _ in history], dtype=np.int64)
    ids = np.array([alignment for _, alignment in history], dtype=np.int64)
    place = np.searchsorted(firsts, deals.day, "right") - 1
    before = territory_reads.alignment_on(date.min, []) or 0  # before any activation
    return np.where(place >= 0, ids[np.maximum(place, 0)], before)


def _assignments(deals: DealColumns, alignments: np.ndarray) -> np.ndarray:
    """(alignment × KEY + account, territory) of the deals' accounts in the alignment of
    each deal's close date."""
    parts = [np.zeros((0, 2), dtype=np.int64)]
    for alignment in np.unique(alignments[alignments != 0]).tolist():
        accounts = np.unique(deals.account[alignments == alignment]).tolist()
        pairs = _in_chunks(lambda ids, a=alignment: territory_reads.territory_pairs(ids, a),
                           accounts, 2)
        pairs[:, 0] += alignment * KEY
        parts.append(pairs)
    return np.concatenate(parts)


def overlay_pairs(deals: DealColumns) -> tuple[np.ndarray, np.ndarray]:
    """(deal row, member) of every overlay member crediting a deal, each pair once."""
    if not len(deals.id):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    alignments = _alignments(deals)
    assigned = _assignments(deals, alignments)
    if not len(assigned):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    first, last = (_day(int(deals.day.min())), _day(int(deals.day.max())))
    member = _in_chunks(lambda ids: [
        (t, u, _day_number(s), _day_number(e))
        for t, u, s, e in territory_reads.overlay_memberships(ids, first, last)],
        np.unique(assigned[:, 1]).tolist(), 4)
    if not len(member):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # account → its overlay memberships (small), then every deal → its account's.
    pair_rows, member_rows = join(assigned[:, 1], member[:, 0])
    by_account = np.column_stack([assigned[pair_rows, 0], member[member_rows, 1:]])
    deal_rows, rows = join(alignments * KEY + deals.account, by_account[:, 0])
    user, starts, ends = (by_account[rows, i] for i in (1, 2, 3))
    day, owner = deals.day[deal_rows], deals.owner[deal_rows]
    keep = (starts <= day) & (day <= ends) & (user != owner)
    pairs = np.unique(np.column_stack([deal_rows[keep], user[keep]]), axis=0)
    return pairs[:, 0], pairs[:, 1]


def manager_pairs(owners: np.ndarray) -> np.ndarray:
    """(owner, manager) of every manager above each of these owners."""
    pairs = [(person.pk, manager.pk)
             for person in User.objects.filter(pk__in=np.unique(owners).tolist())
             for manager in org_reads.manager_chain(person)]
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def _refuse_negative(rule: CompCreditRule, deals: DealColumns, applies: np.ndarray) -> None:
    if rule.share < 0 and applies.any():
        row = int(np.flatnonzero(applies)[np.lexsort((deals.id[applies], deals.day[applies]))[0]])
        raise ValidationError({"share": f"Deal {int(deals.id[row])}: rule {rule.name!r} "
                                        f"has a negative share"})


def rule_credits(deals: DealColumns, rules: list[CompCreditRule]
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(deal row, rep, share in millionths) of every credit line the rules add."""
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    overlay = manager = None
    for rule in rules:
        applies = deals.day >= _day_number(rule.effective_from)
        _refuse_negative(rule, deals, applies)
        share = int(rule.share * 1_000_000)
        if rule.kind == CreditKind.OVERLAY:
            if overlay is None:
                overlay = overlay_pairs(deals)
            rows, reps = overlay
            mask = applies[rows]
            out.append((rows[mask], reps[mask], np.full(int(mask.sum()), share, np.int64)))
        elif rule.kind == CreditKind.MANAGER:
            if manager is None:
                pairs = manager_pairs(deals.owner)
                deal_rows, pair_rows = join(deals.owner, pairs[:, 0])
                manager = (deal_rows, pairs[pair_rows, 1])
            rows, reps = manager
            mask = applies[rows]
            out.append((rows[mask], reps[mask], np.full(int(mask.sum()), share, np.int64)))
    if not out:
        return tuple(np.zeros(0, dtype=np.int64) for _ in range(3))  # type: ignore[return-value]
    return tuple(np.concatenate(part) for part in zip(*out, strict=True))  # type: ignore[return-value]
