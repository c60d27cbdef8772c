"""Version stamps in the shared cache, for data every server process caches under them.

A cached read (whose records a manager sees, which territories a rep works) is stored
under a key that carries a version stamp; a change stores a new stamp, and every
process, reading the stamp from the shared cache (the database cache table or Redis),
stops using the old entries at once.

Two rules make this hold with several processes:

- A stamp is never reused. A stamp the cache dropped (culled, evicted, restarted) is
  replaced by a fresh random one, never by a counter that starts again at a number
  whose old entries may still be cached.
- A change stores a new stamp when it is made and again when its transaction commits.
  With Redis the first write is seen at once, before the commit; a process that reads
  the old rows in between would cache them under it. The second write retires what
  was cached in that gap. (With the database cache the first write is part of the
  transaction and the second is merely redundant.)
"""

import secrets

from django.core.cache import cache
from django.db import connection, transaction


def _key(name: str) -> str:
    return f"version:{name}"


def _fresh() -> str:
    return secrets.token_hex(8)


def current_version(name: str) -> str:
    """The stamp cached reads of `name` are stored under now."""
    found = cache.get(_key(name))
    if found is None:
        cache.add(_key(name), _fresh(), None)  # the first of several processes wins
        found = cache.get(_key(name)) or _fresh()
    return str(found)


def new_version(name: str) -> None:
    """Retire every cached read of `name`: now, and again once the change commits."""
    cache.set(_key(name), _fresh(), None)
    if connection.in_atomic_block:
        transaction.on_commit(lambda: cache.set(_key(name), _fresh(), None))
