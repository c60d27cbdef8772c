"""Every route the record kit generates follows the permission registry, for every role:
the list, its export and create as a whole, and each record's get, change, delete and
history for a record of each owner the sample makes, and for a missing one (see
kit_samples.py); a child record, its list and its create as its parent's rights say.
The expected answer is the registry's (`refusal_status`), as in test_matrix_features.py;
where refused, no row changes."""

import json

import pytest

from salesplan.config.api import api  # noqa: F401 - installs every app's record types
from salesplan.core.record_kit import RECORD_TYPES
from salesplan.core.registry import NONE, REGISTRY, refusal_status, scope_for

from .feature_matrix import ACTOR_USER, build_world
from .feature_matrix import ACTORS as OWNER_ACTORS
from .kit_samples import SAMPLES

API = "/api/v1"
MISSING = 999_999
# Company-wide data is probed by one user of each role; records with owners by the
# actors of feature_matrix.py, for a record of each owner.
ACTORS = ("admin", "west_manager", "west_rep", "marketer", "executive")
OK = {"GET": 200, "POST": 201, "PATCH": 200, "DELETE": 204}

CELLS = [(mount, kind, method, path, action)
         for mount, kind in RECORD_TYPES
         for method, path, action in kind.operations(mount)]


def test_every_installed_record_type_has_a_sample():
    missing = sorted(f"{mount} {kind.name}" for mount, kind in RECORD_TYPES
                     if (mount, kind.name) not in SAMPLES)
    assert missing == [], f"add a sample to tests/security/kit_samples.py for {missing}"


def _url(kind, path: str, obj) -> str:
    values = {kind.id_param: MISSING if obj is None else getattr(obj, kind.lookup_field)}
    if kind.parent is not None:
        values[kind.parent.param] = MISSING if obj is None else getattr(obj, kind.parent.field).pk
    return API + path.format(**values)


def _expected(user, kind, action: str, method: str, obj, *, missing: bool) -> int:
    resource = kind.resource
    if missing:
        view = kind.actions.view  # who reads none of the kind is refused outright
        if (resource, view) in REGISTRY.entries and scope_for(user, resource, view) != NONE:
            return 404
        return 403
    return refusal_status(user, resource, action, obj) or OK[method]


def _rows(kind, obj, item: bool):
    if item:
        return list(kind.model.objects.filter(pk=obj.pk).values())
    return kind.model.objects.count()


def _send(client, method: str, url: str, body, obj):
    version = getattr(obj, "version", None)
    if method == "GET":
        return client.get(url)
    if method == "DELETE":
        return client.delete(f"{url}?version={version or 1}")
    if method == "PATCH":
        body = {**body, "version": version or 1}
    return getattr(client, method.lower())(url, data=json.dumps(body),
                                           content_type="application/json")


@pytest.mark.parametrize(("mount", "kind", "method", "path", "action"), CELLS,
                         ids=[f"{m} {p.removeprefix(mount)}" for mount, _, m, p, _ in CELLS])
def test_kit_route_follows_the_registry(org, client, mount, kind, method, path, action):
    sample = SAMPLES[(mount, kind.name)]
    item = f"{{{kind.id_param}}}" in path
    collection_under_parent = not item and kind.parent is not None
    wrong: list[str] = []
    if sample.owners == ("company",):
        context, users = org, {actor: getattr(org, actor) for actor in ACTORS}
    else:
        context = build_world(org)
        users = {actor: context.user(ACTOR_USER[actor]) for actor in OWNER_ACTORS}
    for actor, user in users.items():
        client.force_login(user)
        for owner in (*sample.owners, "missing"):
            if owner == "missing" and not (item or collection_under_parent):
                continue
            obj = None if owner == "missing" else sample.make(context, owner)
            if obj is not None:
                obj.refresh_from_db()
            # a child is judged by its parent's rights (a territory's rules by the
            # territory), its list and create included
            judged = obj if obj is None or kind.parent is None else getattr(
                obj, kind.parent.field)
            if not item and kind.parent is None:
                judged = None
            expected = _expected(user, kind, action, method, judged,
                                 missing=owner == "missing")
            before = _rows(kind, obj, item) if obj is not None else None
            body = {}
            if method == "POST":
                body = sample.create(context, obj)
            elif method == "PATCH":
                body = sample.change(context, obj)
            response = _send(client, method, _url(kind, path, obj), body, obj)
            if response.status_code != expected:
                wrong.append(f"{actor}/{owner}: {response.status_code}, expected {expected} "
                             f"{response.content[:200]!r}")
            if expected >= 400 and obj is not None:
                assert _rows(kind, obj, item) == before, f"a refused {method} {path} wrote"
    assert wrong == [], f"{method} {path}: " + "; ".join(wrong)
