"""Reactions of one domain to another's events, without the lower app importing the
higher one.

A lower layer names the moment ("an account was saved") and calls its hook; a higher
app that must react registers a receiver in its ``AppConfig.ready()`` — as territories
plug their visibility into ``core.visibility``. Receivers run in registration order, in
the caller's transaction: a receiver that raises ``ValidationError`` refuses the change,
and nothing is written.

Unlike Django's signals, every hook is declared here with the arguments it passes, so a
reader of the CRM core sees every reaction it can trigger in one file.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any


class Hook:
    """A named moment that higher apps may react to."""

    def __init__(self, name: str, doc: str) -> None:
        self.name = name
        self.__doc__ = doc
        self._receivers: list[Callable[..., Any]] = []

    def register(self, receiver: Callable[..., Any]) -> Callable[..., Any]:
        """Add a receiver (once, however often ready() runs); usable as a decorator."""
        if receiver not in self._receivers:
            self._receivers.append(receiver)
        return receiver

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        for receiver in self._receivers:
            receiver(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self._receivers)} receivers>"


account_saved = Hook("account_saved", """account_saved(account, *, by, changes)

An account was created (changes is None) or edited (changes: field → (old, new)), inside
the writing transaction. Territories re-assign it and check the rep's boundaries.""")

record_placed_on_account = Hook("record_placed_on_account", """record_placed_on_account(by, account)

A user is about to attach a deal (or other work) to an account, inside the writing
transaction. Territories refuse a rep working outside their territories.""")

lead_committed = Hook("lead_committed", """lead_committed(lead_id, *, by, route)

A lead's change was committed (called from ``transaction.on_commit``: a rolled-back change
triggers nothing, and a failing receiver never undoes the change). ``route`` asks for the
lead to be routed to a rep (a new lead nobody was named to own). Scoring rescores it;
marketing routes it.""")

opportunity_changed = Hook("opportunity_changed", """opportunity_changed(opportunity, *, by)

A deal's fields or stage changed (won, lost, reopened, amount or close date edited) or it
is being deleted, inside the writing transaction. Compensation recalculates, after the
commit, the open statements it touches.""")

job_finished = Hook("job_finished", """job_finished(job)

A background job ended, succeeded or failed (``job.status``), its outcome saved. The inbox
tells the person who started it.""")


# --- Workload: the selling days accounts need, for the layers that cannot ask -----------


@dataclass(frozen=True)
class AccountWorkload:
    """Selling days a month each account needs, and where the figure comes from (in the
    manager's words, shown beside it)."""

    days_per_month: dict[int, Decimal]  # account id -> selling days a month
    source: str


@dataclass(frozen=True)
class WorkloadProvider:
    """The app that knows how accounts are worked: `per_account(account_ids)` answers an
    `AccountWorkload`; `available_days(users, start, end)` the selling days the people
    have between two dates (inclusive), all of them together."""

    name: str
    per_account: Callable[[list[int]], AccountWorkload]
    available_days: Callable[[list[Any], date, date], Decimal]


class WorkloadHook:
    """Field visits register the workload of accounts in their ``AppConfig.ready()``;
    territory goals and the alignment optimiser (a lower layer) read it through here.
    Without a provider there is no workload figure (`provider()` is None)."""

    def __init__(self) -> None:
        self._provider: WorkloadProvider | None = None

    def register(self, provider: WorkloadProvider) -> WorkloadProvider:
        self._provider = provider
        return provider

    def provider(self) -> WorkloadProvider | None:
        return self._provider


account_workload = WorkloadHook()


# --- Hand-over: what a departing user holds, and who gets it ---------------------------


@dataclass(frozen=True)
class Holding:
    """Records of one kind a user holds, and who gets them when the user leaves."""

    kind: str  # e.g. "accounts"; unique across providers
    label: str  # e.g. "Accounts owned"
    record_ids: tuple[int, ...]
    # "successor", or how the records are handed on otherwise (e.g. "the territory's rules")
    goes_to: str = "successor"
    # A few names to show in the preview (the first records), for a person to check.
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class HandoverProvider:
    """One app's part of a hand-over: `held(user)` lists what the user holds (one
    Holding per kind), `hand_over(user, successor, *, by)` moves it and returns how many
    records it moved per kind. Both run in org's transaction; a ValidationError refuses
    the whole hand-over."""

    name: str
    held: Callable[[Any], list[Holding]]
    hand_over: Callable[..., dict[str, int]]


class HandoverHook:
    """Registered by every app whose records belong to a person (customers, pipeline,
    activities, territories, planning, reports) in its ``AppConfig.ready()``; org's
    deactivation calls it without importing any of them."""

    def __init__(self) -> None:
        self._providers: dict[str, HandoverProvider] = {}

    def register(self, provider: HandoverProvider) -> HandoverProvider:
        self._providers[provider.name] = provider
        return provider

    def providers(self) -> list[HandoverProvider]:
        return list(self._providers.values())

    def held(self, user: Any) -> list[Holding]:
        return [holding for provider in self._providers.values()
                for holding in provider.held(user)]

    def hand_over(self, user: Any, successor: Any, *, by: Any) -> dict[str, int]:
        moved: dict[str, int] = {}
        for provider in self._providers.values():
            moved.update(provider.hand_over(user, successor, by=by))
        return moved


user_handover = HandoverHook()
