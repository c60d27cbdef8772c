"""What a server process does once its application is loaded, before its first request."""

import gc

from django.urls import get_resolver


def prepare_process() -> None:
    """Import every view and build the API's routes now (1.5 s) rather than during the
    first request a visitor makes to this process; then move everything loaded so far out
    of the garbage collector's sight. A full collection walks every tracked object: with
    the start-up's 280,000 in view it took 160 ms of processor time and landed on one
    request in ten or so (the deep list pages' p95 of 94–229 ms at 1,000,000 accounts);
    frozen, they are never walked again, and a full collection costs what the requests
    since left behind."""
    get_resolver().resolve("/")
    gc.collect()
    gc.freeze()
