"""The permission registry covers every operation of the JSON API, and its central rules
hold for every entry: a new endpoint that is not declared in an app's permissions.py
fails here."""

import pytest

from salesplan.config.api import api
from salesplan.core.registry import REGISTRY, ROLES, allowed, grant, scope_for

PREFIX = "/api/v1"


def api_operations() -> set[tuple[str, str]]:
    """(METHOD, path under /api/v1) of every operation the OpenAPI schema describes."""
    schema = api.get_openapi_schema(path_prefix=PREFIX)
    return {(method.upper(), path.removeprefix(PREFIX))
            for path, item in schema["paths"].items()
            for method in item if method in {"get", "post", "put", "patch", "delete"}}


def test_every_api_operation_is_declared_in_the_registry():
    missing = sorted(api_operations() - set(REGISTRY.operations))
    assert missing == [], ("operations with no permission entry; declare each in its app's "
                           f"permissions.py with register_operations: {missing}")


def test_the_registry_declares_no_operation_that_does_not_exist():
    assert sorted(set(REGISTRY.operations) - api_operations()) == []


def test_every_declared_operation_names_a_known_entry():
    for operation, target in REGISTRY.operations.items():
        assert target is None or target in REGISTRY.entries, operation


def test_writes_are_not_declared_as_views_except_where_said():
    """A POST/PUT/PATCH/DELETE mapped to a "view" entry would let the executive write."""
    reads_by_post = {("POST", "/reports/{key}/run"), ("POST", "/pricing/price"),
                     ("POST", "/territories/rules/preview")}
    for (method, path), target in REGISTRY.operations.items():
        if target is not None and method != "GET" and (method, path) not in reads_by_post:
            resource, action = target
            assert action != "view" or REGISTRY.entries[target].personal, (method, path)


def test_open_operations_are_few_and_known():
    assert {op for op, target in REGISTRY.operations.items() if target is None} == {
        ("POST", "/marketing/capture/{form_key}")}


@pytest.mark.django_db
def test_the_executive_is_read_only_in_every_entry(org):
    for (resource, action), entry in REGISTRY.entries.items():
        if action != "view" and not entry.personal:
            assert scope_for(org.executive, resource, action) == "none", entry.key


@pytest.mark.django_db
def test_inactive_users_may_do_nothing(org):
    org.admin.is_active = False
    for resource, action in REGISTRY.entries:
        assert not allowed(org.admin, resource, action)


@pytest.mark.django_db
def test_a_grant_gives_one_user_one_action_company_wide(org):
    assert not allowed(org.west_manager, "alignment", "activate")
    grant(org.west_manager, "alignment", "activate")
    assert allowed(org.west_manager, "alignment", "activate")
    assert not allowed(org.east_manager, "alignment", "activate")
    assert not allowed(org.west_manager, "alignment", "create")
    with pytest.raises(ValueError):
        grant(org.west_manager, "account", "delete")  # not grantable


def test_entries_name_only_known_roles():
    for entry in REGISTRY.entries.values():
        assert set(entry.roles) <= set(ROLES), entry.key
