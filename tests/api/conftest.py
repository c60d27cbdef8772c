"""Helpers for calling the API as a given user, with a token or a browser session."""

import json
from dataclasses import dataclass

import pytest
from django.test import Client

from salesplan.org.services import create_api_token

API = "/api/v1"


@dataclass
class ApiCaller:
    """Sends JSON to the API the way an integration does and decodes the answer."""

    client: Client
    headers: dict

    def call(self, method: str, path: str, body=None, *, raw: str | None = None, **params):
        kwargs = {"headers": self.headers}
        if method in {"post", "patch", "put"}:
            kwargs["data"] = raw if raw is not None else json.dumps(body or {})
            kwargs["content_type"] = "application/json"
            url = API + path
        else:
            kwargs["data"] = params
            url = API + path
        response = getattr(self.client, method)(url, **kwargs)
        response.data = json.loads(response.content) if response.content else None
        return response

    def get(self, path: str, **params):
        return self.call("get", path, **params)

    def post(self, path: str, body=None, **kwargs):
        return self.call("post", path, body, **kwargs)

    def patch(self, path: str, body=None, **kwargs):
        return self.call("patch", path, body, **kwargs)

    def delete(self, path: str):
        return self.call("delete", path)


@pytest.fixture
def api_as():
    """api_as(user) -> a caller authenticated with a fresh API token of that user."""

    def make(user) -> ApiCaller:
        _, key = create_api_token(user, "tests")
        return ApiCaller(Client(), {"Authorization": f"Bearer {key}"})

    return make


def assert_problem(response, status: int, *fields: str) -> dict:
    """The answer is RFC 9457 problem details with this status naming these fields."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.data
    assert body["status"] == status and body["title"] and "type" in body
    for field in fields:
        assert field in body.get("errors", {}), body
    return body
