"""Browser journeys: the real UI in headless Chromium against pytest-django's live server.

Tests here skip when /usr/bin/chromium is missing, except in CI (SALESPLAN_REQUIRE_BROWSER
set), where a missing browser fails the run instead of hiding the journeys.
"""

import os
from pathlib import Path

import pytest

from tests.mail_servers import imap_server, smtp_server  # noqa: F401 - for the email journey

# Playwright's sync API runs an event loop in this thread; Django refuses database access
# from a thread with a running loop unless told it is safe (the test owns the thread).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")



def _one_request_at_a_time() -> None:
    """On SQLite the live server's threads share the test's one in-memory connection, and
    pages now load several panels at once: two requests on one connection fail with
    "bad parameter or other API misuse". Requests still arrive in parallel (keep-alive
    connections stay open), but their handling takes turns. PostgreSQL gives each
    thread its own connection and needs none of this, but it does no harm there."""
    import threading

    from django.core.servers.basehttp import ThreadedWSGIServer
    from django.test.testcases import LiveServerThread

    class TakingTurnsServer(ThreadedWSGIServer):
        turn = threading.Lock()

        def set_app(self, application):
            def in_turn(environ, start_response):
                with self.turn:
                    # The whole body is produced inside the turn (downloads included),
                    # and the response closed there (it ends the request for Django).
                    result = application(environ, start_response)
                    try:
                        return [b"".join(result)]
                    finally:
                        if hasattr(result, "close"):
                            result.close()
            super().set_app(in_turn)

    LiveServerThread.server_class = TakingTurnsServer


_one_request_at_a_time()

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking",
                 "--disable-component-update", "--disable-gpu"]


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


def _seed_default_data() -> None:
    """What migrations seed (the default pipelines), which a transactional test's flush
    removes: recreated before each journey and after it, for the tests that follow."""
    from importlib import import_module

    from django.apps import apps

    import_module("salesplan.pipeline.migrations.0002_default_pipelines").create_pipelines(
        apps, None)


@pytest.fixture(autouse=True)
def seeded_data(request, django_db_blocker):
    # Set up before the database fixtures, so this teardown runs after their flush.
    yield
    with django_db_blocker.unblock():
        _seed_default_data()


@pytest.fixture
def journey_data(transactional_db):
    _seed_default_data()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("SALESPLAN_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, journey_data):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280,
                                                                     "height": 900})
    # Generous waits: they cost nothing when the page is quick, and a cold live server's
    # first page, or an htmx panel, can take seconds when the suite keeps both cores busy.
    context.set_default_timeout(30_000)
    context.set_default_navigation_timeout(60_000)
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)
    page = context.new_page()
    yield page
    context.close()


def log_in(page, user, password: str) -> None:
    """Log in through the login form, as a person would."""
    page.goto("/login/")
    page.get_by_label("Username or email").fill(user.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login/" not in url)
