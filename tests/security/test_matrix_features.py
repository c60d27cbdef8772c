"""The feature apps' endpoints follow the permission registry for every actor and every
owner of the record (see feature_matrix.py); nothing refused changes a row."""

import json

import pytest

from .feature_matrix import (
    ACTOR_USER,
    ACTORS,
    COMPANY_OPERATIONS,
    MISSING,
    OPERATIONS,
    OWNERS,
    build_world,
)

API = "/api/v1"

CELLS = [(op, actor) for op in (*OPERATIONS, *COMPANY_OPERATIONS) for actor in ACTORS]


def _send(client, operation, url: str, body, target):
    """The request as a client that read the record sends it: with the record's version
    (in the body, or as `?version=` for a delete) wherever the operation takes one."""
    version = _current_version(target) if target else 1
    if version is None or operation.method == "GET":
        return _request(client, operation.method, url, body)
    if operation.method == "DELETE":
        return _request(client, "DELETE", f"{url}?version={version}", body)
    response = _request(client, operation.method, url, {**(body or {}), "version": version})
    if response.status_code == 422 and b"version" in response.content:
        return _request(client, operation.method, url, body)  # a create takes no version
    return response


def _current_version(target) -> int | None:
    record = target.versioned or target.obj
    if not hasattr(record, "version"):
        return None
    return type(record).objects.filter(pk=record.pk).values_list("version", flat=True).first()


def _request(client, method: str, url: str, body):
    return getattr(client, method.lower())(
        url, data=json.dumps(body) if body is not None else None,
        content_type="application/json")


@pytest.mark.parametrize(("operation", "actor"), CELLS,
                         ids=[f"{op.name}-{actor}" for op, actor in CELLS])
def test_feature_endpoint_follows_the_registry(org, client, operation, actor):
    world = build_world(org)
    user = world.user(ACTOR_USER[actor])
    client.force_login(user)
    owners = ("company", "missing") if operation in COMPANY_OPERATIONS else OWNERS
    wrong: list[str] = []
    for owner in owners:
        target = None if owner == "missing" else operation.make(world, owner)
        expected = operation.expected(user, target)
        before = target.rows() if target else None
        params = target.params if target else {}
        url = API + operation.path.format(pk=target.pk if target else MISSING,
                                          **{"approval": MISSING, "job": MISSING, **params})
        response = _send(client, operation, url, operation.body(world, owner, target), target)
        if response.status_code != expected:
            wrong.append(f"{owner}: {response.status_code}, expected {expected} "
                         f"{response.content[:200]!r}")
        if expected >= 400 and target is not None:
            assert target.rows() == before, f"a refused {operation.name} on {owner} wrote"
    assert wrong == [], f"{operation.name} as {actor}: " + "; ".join(wrong)

