"""Settings read many times while one page is drawn, read once per request.

A dashboard asks for the company's calendar, the team tree and the people's names from a
dozen places (each report card, each app card, the page frame); each asking used to be a
query. Inside `request_scope()` — opened by `RequestMemoMiddleware` around every GET and
HEAD request — `remembered(key, compute)` computes a value once and hands the same value
to every later caller in that request. Nothing outlives the request, so several server
processes never disagree: a change made by another process is seen by the next request,
as before. Outside a scope (jobs, the console, POST requests, which change records) every
call computes afresh, except in the POST views marked `remembers_reads`, whose writes
touch nothing remembered (logging a call, moving a deal).

A value is remembered only when it is not changed during the request it is read in;
saving a company, holiday, team or person forgets everything remembered in the current
request all the same (see `apps.CoreConfig.ready`).
"""

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any, TypeVar

T = TypeVar("T")

_memo: ContextVar[dict[Hashable, Any] | None] = ContextVar("request_memo", default=None)


@contextmanager
def request_scope() -> Iterator[None]:
    """Remember values until the block ends (nested scopes share the outer one)."""
    if _memo.get() is not None:
        yield
        return
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def remembered(key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`'s value, computed once per request scope (every time outside one)."""
    memo = _memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def forget_remembered(**_signal_kwargs) -> None:
    """Forget what the current request remembered (a remembered record was saved)."""
    memo = _memo.get()
    if memo:
        memo.clear()


def remembers_reads(view: Callable[..., T]) -> Callable[..., T]:
    """A request scope around a view that changes records (a POST), for a view whose
    writes change none of what is remembered: the company and its calendar, teams,
    people, territory scopes and the accounts assigned to them. Logging a call on a deal
    checked the rep's territory scope four times (visibility of the deal, of its
    account, of the refreshed panel): 12 of its 36 queries."""

    @wraps(view)
    def in_scope(*args, **kwargs):
        with request_scope():
            return view(*args, **kwargs)

    return in_scope


class RequestMemoMiddleware:
    """A request scope around each GET and HEAD request."""

    SAFE_METHODS = ("GET", "HEAD")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in self.SAFE_METHODS:
            return self.get_response(request)
        with request_scope():
            return self.get_response(request)
