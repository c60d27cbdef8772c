"""The permission matrix through the JSON API with a browser session.

A record the user may not see answers 404 and leaks nothing; an action the user may not
take on a record they see answers 403; nothing refused changes the database.
"""

import json

import pytest

from .matrix import (
    CHANGES,
    EXPECTED,
    MODELS,
    OWNERS,
    PLURAL,
    actor,
    api_payload,
    cells,
    creation_data,
    make_record,
    owner,
    snapshot,
    tell_tale,
)

API = "/api/v1"


def _send(client, method: str, url: str, body: dict | None = None):
    return getattr(client, method)(url, data=json.dumps(body) if body is not None else None,
                                   content_type="application/json")


@pytest.mark.parametrize(("role", "resource"), cells())
def test_api_follows_the_matrix(client, org, role, resource):
    user, rule = actor(org, role), EXPECTED[role][resource]
    model, base = MODELS[resource], f"{API}/{PLURAL[resource]}"
    client.force_login(user)
    wrong: list[str] = []

    before = model.objects.count()
    response = _send(client, "post", base, api_payload(creation_data(resource, user)))
    expected = 201 if rule.create else 403
    if response.status_code != expected:
        wrong.append(f"create: {response.status_code} (expected {expected}) {response.content!r}")
    if not rule.create:
        assert model.objects.count() == before, "a refused create wrote a row"

    for whose in OWNERS:
        wrong += _check_record(client, base, resource, rule, whose, make_record(
            resource, owner(org, whose)))
    assert wrong == [], f"{role} × {resource}: " + "; ".join(wrong)


def _check_record(client, base, resource, rule, whose, record) -> list[str]:
    wrong = []
    visible = rule.allows("view", whose)
    secret = tell_tale(record)

    detail = client.get(f"{base}/{record.pk}")
    listed = client.get(base, {"limit": 100})
    in_list = record.pk in [item["id"] for item in listed.json()["items"]]
    if (detail.status_code, in_list) != ((200, True) if visible else (404, False)):
        wrong.append(f"view {whose}'s: detail {detail.status_code}, in list {in_list}")
    if not visible:
        assert secret not in detail.content.decode(), "a hidden record leaked"

    denied = 404 if not visible else 403
    for action, method, body, ok in (
        ("change", "patch", {**CHANGES[resource], "version": record.version}, 200),
        ("delete", "delete", None, 204),
    ):
        row = snapshot(record)
        response = _send(client, method, f"{base}/{record.pk}", body)
        allowed = rule.allows(action, whose)
        if response.status_code != (ok if allowed else denied):
            wrong.append(f"{action} {whose}'s: {response.status_code} "
                         f"(expected {ok if allowed else denied})")
        if not allowed:
            assert snapshot(record) == row, f"refused {action} of {whose}'s {resource} wrote"
            assert secret not in response.content.decode() or visible
        elif action == "change":
            record.refresh_from_db()
    return wrong
