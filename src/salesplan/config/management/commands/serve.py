"""`salesplan serve`: run Salesplan under gunicorn, the way it runs in production.

The cache table is created and static files are collected first (whitenoise serves
them from STATIC_ROOT), so a fresh install or an upgrade never serves stale or missing
assets.

It never serves with debug on: a debug page shows settings and source to whoever causes
an error, and debug keeps every SQL query in memory, so a long-running server would grow
without bound. Each server's gunicorn control socket is off unless asked for, and then
private to its owner at the path given, so two servers on one host never share one.
"""

import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction

# Seconds an idle kept-alive connection stays open. Longer than the idle time of the
# clients that reuse connections — a reverse proxy's upstream pool (nginx keeps them 60 s),
# a browser, an API client pausing between pages — so the server never closes a
# connection at the moment a client sends its next request on it; that race is a
# connection reset for the client. An idle connection costs a socket in the worker's
# poller, not a thread.
KEEP_ALIVE_SECONDS = 75


def default_workers() -> int:
    # Threads carry the concurrency (requests mostly wait on the database); a few
    # processes use the cores without multiplying memory.
    return max(2, min(4, os.cpu_count() or 1))


class Command(BaseCommand):
    help = "Serve Salesplan over HTTP with gunicorn (default 127.0.0.1:8000)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("SALESPLAN_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int,
                            default=int(os.environ.get("SALESPLAN_PORT", "8000")))
        parser.add_argument("--workers", type=int, default=default_workers(),
                            help="Worker processes (default: 2–4 by CPU count).")
        parser.add_argument("--threads", type=int, default=4,
                            help="Threads per worker process (default 4).")
        parser.add_argument("--timeout", type=int, default=60,
                            help="Seconds before a stuck request's worker is restarted.")
        parser.add_argument("--keep-alive", type=int, default=KEEP_ALIVE_SECONDS,
                            help="Seconds an idle client connection stays open "
                                 f"(default {KEEP_ALIVE_SECONDS}).")
        parser.add_argument("--max-requests", type=int, default=0,
                            help="Restart a worker process gracefully after about this many "
                                 "requests (default 0: never).")
        parser.add_argument("--no-collectstatic", action="store_true",
                            help="Skip collecting static files before starting.")
        parser.add_argument("--control-socket",
                            default=os.environ.get("SALESPLAN_CONTROL_SOCKET", ""),
                            help="Path of this server's gunicorn control socket (mode 0600); "
                                 "none unless given.")

    def handle(self, *args, **options) -> None:
        if settings.DEBUG:
            self.stderr.write("Debug is off under `salesplan serve` (SALESPLAN_DEBUG applies "
                              "to `salesplan runserver` only).")
        # Workers load the application after this point, so they all start without debug.
        settings.DEBUG = False
        create_cache_table()
        if not options["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        bind = f"{options['host']}:{options['port']}"
        self.stdout.write(f"Salesplan is listening on http://{bind}/ (Ctrl-C stops it)")
        run_gunicorn(gunicorn_config(options, bind))


def gunicorn_config(options: dict, bind: str) -> dict:
    return {
        "bind": bind,
        "workers": options["workers"],
        "threads": options["threads"],
        "worker_class": "gthread",
        "timeout": options["timeout"],
        "keepalive": options["keep_alive"],
        **max_requests_config(options["max_requests"]),
        "accesslog": "-",
        "errorlog": "-",
        "forwarded_allow_ips": os.environ.get("SALESPLAN_FORWARDED_ALLOW_IPS", "127.0.0.1"),
        **control_socket_config(options["control_socket"]),
    }


def max_requests_config(count: int) -> dict:
    """Graceful recycling after about `count` requests, off by default.

    A recycled worker stops accepting, finishes the requests it holds and answers a
    request already arriving on a kept-alive connection with "Connection: close", so no
    client sees a reset. The jitter keeps the processes from restarting all at once.
    """
    if count <= 0:
        return {}
    return {"max_requests": count, "max_requests_jitter": max(1, count // 10)}


def create_cache_table() -> None:
    """The default cache (login throttling, visibility and settings caches) is a
    database table; creating it is a no-op when it exists. Servers started together
    against one database take turns: otherwise both see no table, and the second
    CREATE fails and stops its server."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('salesplan-cache-table'))")
        # On SQLite the transaction itself (BEGIN IMMEDIATE) is the turn.
        call_command("createcachetable", verbosity=0)
    connection.close()  # gunicorn's workers fork from here: each opens its own


def control_socket_config(path: str) -> dict:
    """gunicorn's control socket: none by default, else private to this server's owner.

    gunicorn's own default is one path under the user's home for every server, so two
    servers on a host would take each other's socket.
    """
    if not path:
        return {"control_socket_disable": True}
    return {"control_socket": path, "control_socket_mode": 0o600}


def run_gunicorn(config: dict) -> None:
    """Start gunicorn in this process with the Django WSGI application."""
    from gunicorn.app.base import BaseApplication

    class SalesplanServer(BaseApplication):
        def load_config(self) -> None:
            for key, value in config.items():
                self.cfg.set(key, value)

        def load(self):
            from salesplan.config.wsgi import application

            return application

    SalesplanServer(usage=None, prog="salesplan serve").run()
