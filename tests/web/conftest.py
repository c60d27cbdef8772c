"""Helpers for browser-page tests: logged-in clients and htmx requests."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Login throttling and the company time zone live in the cache.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client
    return _login


HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "list-results"}
