"""The benchmark company's big tables, generated a column at a time with numpy.

Drawing each value with `random` in a Python loop cost more than writing the rows; here
every column of a chunk of rows is drawn at once from one seeded numpy generator, and
only the text that differs per row (names, e-mail addresses) is formatted in Python.
Dates and times fall on a few thousand distinct values around the build's fixed `now`,
so each is formatted once, as the database stores it, and looked up by offset.

Every generator yields plain tuples in the column order its caller names, and fills the
arrays the next tables draw on (an account's owner, a contact's account, a deal's account
and owner, the open deals) as its rows are consumed. References across tables follow the
product's rules: a deal's contact is one of its account's contacts, and an activity on a
deal is on the deal's account.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

CHUNK = 200_000
DAY, HOUR = timedelta(days=1), timedelta(hours=1)


class Clock:
    """Moments and dates at whole-day or whole-hour offsets from `now`, as text the
    database reads: naive UTC on SQLite (as Django writes it there), with the offset on
    PostgreSQL."""

    def __init__(self, now: datetime, vendor: str):
        self.now = now.astimezone(UTC)
        self.today = self.now.date()
        self.postgres = vendor == "postgresql"

    def _text(self, moment: datetime) -> str:
        if self.postgres:
            return moment.isoformat(sep=" ")
        return moment.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")

    def moments(self, offsets: np.ndarray, unit: timedelta = DAY) -> list[str]:
        """`now + offset × unit` for each offset."""
        lo, hi = int(offsets.min()), int(offsets.max())
        table = np.array([self._text(self.now + unit * k) for k in range(lo, hi + 1)],
                         dtype=object)
        return table[offsets - lo].tolist()

    def dates(self, offsets: np.ndarray) -> list[str]:
        """`today + offset` days, ISO dates."""
        lo, hi = int(offsets.min()), int(offsets.max())
        table = np.array([(self.today + DAY * k).isoformat() for k in range(lo, hi + 1)],
                         dtype=object)
        return table[offsets - lo].tolist()


@dataclass
class Company:
    """What later tables draw on: index = row id (0 unused)."""

    account_owner: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    contact_account: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    opp_owner: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    opp_account: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    lead_owner: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    open_ids: list[np.ndarray] = field(default_factory=list)

    def open_deals(self) -> np.ndarray:
        return np.concatenate(self.open_ids) if self.open_ids else np.zeros(0, np.int64)

    def contacts_by_account(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Contact ids grouped by account, and each account's first position in that
        list and number of contacts (index = account id)."""
        n_accounts = len(self.account_owner) - 1
        order = np.argsort(self.contact_account[1:], kind="stable") + 1
        counts = np.bincount(self.contact_account[1:], minlength=n_accounts + 1)
        return order, np.cumsum(counts) - counts, counts


def _contacts_of(rng: np.random.Generator, by_account: tuple, account: np.ndarray) -> list:
    """A contact of each deal's account (`by_account` from `contacts_by_account`), at
    random, or None where the account has no contact: about a third of the deals, as
    contacts fall on accounts at random."""
    order, first, counts = by_account
    count = counts[account]
    pick = first[account] + (rng.random(len(account)) * count).astype(np.int64)
    contact = order[np.minimum(pick, len(order) - 1)] if len(order) else pick
    return _nullable(contact, count == 0)


def _chunks(n: int, start: int = 1) -> Iterator[np.ndarray]:
    for first in range(start, start + n, CHUNK):
        yield np.arange(first, min(first + CHUNK, start + n), dtype=np.int64)


def _nullable(values: np.ndarray, missing: np.ndarray) -> list:
    out = values.astype(object)
    out[missing] = None
    return out.tolist()


def accounts(rng: np.random.Generator, clock: Clock, company: Company, n: int,
             reps: np.ndarray) -> Iterator[tuple]:
    """(id, created_at, updated_at, name, name_key, industry, owner_id)"""
    company.account_owner = np.zeros(n + 1, np.int64)
    for ids in _chunks(n):
        m = len(ids)
        owner = reps[rng.integers(0, len(reps), m)]
        company.account_owner[ids] = owner
        created = clock.moments(-rng.integers(30, 2000, m))
        industry = np.where(rng.random(m) < 0.05, "", "Manufacturing").tolist()
        numbers = ids.tolist()
        yield from zip(numbers, created, created, [f"Account {i:07d}" for i in numbers],
                       [f"account {i:07d}" for i in numbers], industry, owner.tolist(),
                       strict=True)


def contacts(rng: np.random.Generator, clock: Clock, company: Company, n: int,
             n_accounts: int) -> Iterator[tuple]:
    """(id, created_at, updated_at, first_name, last_name, name_key, title, email,
    account_id, owner_id)"""
    company.contact_account = np.zeros(n + 1, np.int64)
    for ids in _chunks(n):
        m = len(ids)
        account = rng.integers(1, n_accounts + 1, m)
        company.contact_account[ids] = account
        created = clock.moments(-rng.integers(1, 1500, m))
        title = np.where(rng.random(m) < 0.05, "", "Buyer").tolist()
        numbers, firms = ids.tolist(), account.tolist()
        yield from zip(numbers, created, created, ["Pat"] * m,
                       [f"Contact{i:07d}" for i in numbers],
                       [f"contact{i:07d} pat" for i in numbers], title,
                       [f"c{i}@firm{a}.example.com" for i, a in zip(numbers, firms, strict=True)],
                       firms, company.account_owner[account].tolist(), strict=True)


@dataclass
class Stages:
    """The default pipeline's stages as the deals table needs them."""

    open_pks: np.ndarray
    open_probabilities: np.ndarray
    won: tuple[int, int]  # pk, probability
    lost: tuple[int, int]
    pipeline: int


def opportunities(rng: np.random.Generator, clock: Clock, company: Company, n: int,
                  n_accounts: int, stages: Stages,
                  open_share: float) -> Iterator[tuple]:
    """(id, created_at, updated_at, name, name_key, account_id, contact_id, pipeline_id,
    stage_id, status, amount, close_date, probability, next_step, owner_id)"""
    company.opp_owner = np.zeros(n + 1, np.int64)
    company.opp_account = np.zeros(n + 1, np.int64)
    company.open_ids = []
    by_account = company.contacts_by_account()
    for ids in _chunks(n):
        m = len(ids)
        account = rng.integers(1, n_accounts + 1, m)
        owner = company.account_owner[account]
        company.opp_account[ids], company.opp_owner[ids] = account, owner
        roll = rng.random(m)
        is_open = roll < open_share
        won = ~is_open & (roll < open_share + (1 - open_share) / 2)
        company.open_ids.append(ids[is_open])
        which = rng.integers(0, len(stages.open_pks), m)
        stage = np.where(is_open, stages.open_pks[which],
                         np.where(won, stages.won[0], stages.lost[0]))
        probability = np.where(is_open, stages.open_probabilities[which],
                               np.where(won, stages.won[1], stages.lost[1]))
        status = np.where(is_open, "open", np.where(won, "won", "lost")).tolist()
        close = np.where(is_open, rng.integers(-60, 180, m), -rng.integers(1, 1100, m))
        # Closed in the past: created some weeks before the close; else within the year.
        age = np.where(close < 0, rng.integers(20, 200, m) - close, rng.integers(1, 300, m))
        created = clock.moments(-age)
        contact = _contacts_of(rng, by_account, account)
        amount = np.where(rng.random(m) < 0.03, 0, rng.integers(1, 500, m) * 1000).tolist()
        next_step = np.where(rng.random(m) < 0.2, "", "Call back").tolist()
        numbers = ids.tolist()
        yield from zip(numbers, created, created, [f"Deal {i}" for i in numbers],
                       [f"deal {i:08d}" for i in numbers], account.tolist(), contact,
                       [stages.pipeline] * m, stage.tolist(), status, amount,
                       clock.dates(close), probability.tolist(), next_step, owner.tolist(),
                       strict=True)


LEAD_STATUSES = np.array(["new", "working", "nurturing", "qualified", "unqualified",
                          "converted"])


def leads(rng: np.random.Generator, clock: Clock, company: Company, n: int,
          reps: np.ndarray) -> Iterator[tuple]:
    """(id, created_at, updated_at, first_name, last_name, name_key, company, status,
    owner_id)"""
    company.lead_owner = np.zeros(n + 1, np.int64)
    for ids in _chunks(n):
        m = len(ids)
        created = clock.moments(-rng.integers(1, 24 * 400, m), HOUR)
        owner = reps[rng.integers(0, len(reps), m)]
        company.lead_owner[ids] = owner
        numbers = ids.tolist()
        firm = [f"Prospect {i}" for i in numbers]
        for i in np.flatnonzero(rng.random(m) < 0.05).tolist():
            firm[i] = ""
        yield from zip(numbers, created, created, ["Lee"] * m,
                       [f"Lead{i:07d}" for i in numbers], [f"lead{i:07d} lee" for i in numbers],
                       firm, LEAD_STATUSES[rng.integers(0, 6, m)].tolist(), owner.tolist(),
                       strict=True)


ACTIVITY_KINDS = np.array(["call", "email", "meeting", "task", "note"])


def activities(rng: np.random.Generator, clock: Clock, company: Company, n: int,
               n_leads: int) -> Iterator[tuple]:
    """(id, created_at, updated_at, kind, subject, due_at, done, owner_id, account_id,
    opportunity_id, lead_id): `n` on deals (most on open ones; a deal's activity is on
    its account too, as the product records it), then a first touch on a third of the
    leads."""
    open_ids = company.open_deals()
    n_opps = len(company.opp_owner) - 1
    for ids in _chunks(n):
        m = len(ids)
        opp = np.where(rng.random(m) < 0.8, open_ids[rng.integers(0, len(open_ids), m)],
                       rng.integers(1, n_opps + 1, m))
        hours = rng.integers(-24 * 120, 24 * 30, m)
        due = clock.moments(hours, HOUR)
        done = ((hours < 0) & (rng.random(m) < 0.8)).tolist()
        yield from zip(ids.tolist(), due, due, ACTIVITY_KINDS[rng.integers(0, 5, m)].tolist(),
                       ["Touch base"] * m, due, done, company.opp_owner[opp].tolist(),
                       company.opp_account[opp].tolist(), opp.tolist(), [None] * m,
                       strict=True)
    lead = np.arange(1, n_leads + 1, 3, dtype=np.int64)
    m = len(lead)
    if not m:
        return
    due = clock.moments(-rng.integers(1, 24 * 300, m), HOUR)
    yield from zip(range(n + 1, n + m + 1), due, due, ["call"] * m, ["First call"] * m, due,
                   (rng.random(m) < 0.8).tolist(), company.lead_owner[lead].tolist(),
                   [None] * m, [None] * m, lead.tolist(), strict=True)


def opportunity_changes(rng: np.random.Generator, clock: Clock, company: Company,
                        open_stage_pks: np.ndarray) -> Iterator[tuple]:
    """(id, opportunity_id, field, from_stage_id, to_stage_id, from_close_date,
    to_close_date, changed_at): close dates pushed back a month at a time on a twentieth
    of the deals, stage moves (mostly one forward; some skip or go back) on a tenth."""
    open_ids = company.open_deals()
    n_opps = len(company.opp_owner) - 1
    pushed = rng.choice(open_ids, size=min(len(open_ids), n_opps // 20), replace=False)
    times = rng.choice(np.array([1, 1, 2, 3]), size=len(pushed))
    opp = np.repeat(pushed, times)
    k = np.arange(len(opp)) - np.repeat(np.cumsum(times) - times, times)
    n_push = len(opp)
    yield from zip(range(1, n_push + 1), opp.tolist(), ["close_date"] * n_push,
                   [None] * n_push, [None] * n_push, clock.dates(30 * k) if n_push else [],
                   clock.dates(30 * k + 30) if n_push else [],
                   clock.moments(-(40 - 10 * k)) if n_push else [], strict=True)
    moved = rng.choice(n_opps, size=n_opps // 10, replace=False) + 1
    a = rng.integers(0, len(open_stage_pks) - 1, len(moved))
    b = np.clip(a + rng.choice(np.array([1, 1, 1, 2, -1]), size=len(moved)), 0,
                len(open_stage_pks) - 1)
    real = a != b
    moved, a, b = moved[real], a[real], b[real]
    m = len(moved)
    if not m:
        return
    yield from zip(range(n_push + 1, n_push + m + 1), moved.tolist(), ["stage"] * m,
                   open_stage_pks[a].tolist(), open_stage_pks[b].tolist(), [None] * m,
                   [None] * m, clock.moments(-rng.integers(1, 365, m)), strict=True)
