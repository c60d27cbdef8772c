"""The lists' own routes follow the matrix: an inline cell edit (page) and the facet
counts (API) for every role × whose record; a refused edit changes nothing, and the
counts never include a record the role may not see."""

import json

import pytest

from .matrix import EXPECTED, OWNERS, ROLES, actor, make_record, owner, snapshot

LIST_RESOURCES = ("account", "contact", "lead", "opportunity")
PLURAL = {"account": "accounts", "contact": "contacts", "lead": "leads",
          "opportunity": "opportunities"}
# A cell of each list, and a valid new value for it.
CELL = {"account": ("industry", "Matrix"), "contact": ("title", "Matrix"),
        "lead": ("campaign", "Matrix"), "opportunity": ("next_step", "Matrix")}
CELLS = [(role, resource) for role in ROLES for resource in LIST_RESOURCES]


@pytest.mark.parametrize(("role", "resource"), CELLS)
def test_inline_edit_follows_the_matrix(client, org, role, resource):
    user, rule = actor(org, role), EXPECTED[role][resource]
    client.force_login(user)
    name, value = CELL[resource]
    wrong = []
    for whose in OWNERS:
        record = make_record(resource, owner(org, whose))
        before = snapshot(record)
        answer = client.post(f"/cells/{resource}/{record.pk}/{name}/",
                             {"value": value, "version": record.version},
                             HTTP_HX_REQUEST="true")
        expected = (200 if rule.allows("change", whose) else
                    403 if rule.allows("view", whose) else 404)
        if answer.status_code != expected:
            wrong.append(f"{whose}'s: {answer.status_code}, expected {expected}")
        if expected != 200:
            assert snapshot(record) == before, f"a refused edit of {whose}'s wrote"
        else:
            record.refresh_from_db()
            assert getattr(record, name) == value
    assert wrong == [], f"{role} × {resource}: " + "; ".join(wrong)


@pytest.mark.parametrize(("role", "resource"), CELLS)
def test_facets_count_only_what_the_role_sees(client, org, role, resource):
    user, rule = actor(org, role), EXPECTED[role][resource]
    client.force_login(user)
    records = {whose: make_record(resource, owner(org, whose)) for whose in OWNERS}
    answer = client.get(f"/api/v1/{PLURAL[resource]}/facets")
    if not rule.view:
        assert answer.status_code == 403
        return
    assert answer.status_code == 200, answer.content
    body = json.loads(answer.content)
    seen = {whose for whose in OWNERS if rule.allows("view", whose)}
    model = type(records["west_rep"])
    visible = model.objects.visible_to(user).count()
    assert body["total"] == visible
    owners = {v["value"] for f in body["facets"] if f["name"] == "owner" for v in f["values"]}
    assert owners == {str(owner(org, whose).pk) for whose in seen}


@pytest.mark.parametrize(("role", "resource"), CELLS)
def test_bulk_work_follows_the_matrix_row_by_row(client, org, role, resource,
                                                 django_capture_on_commit_callbacks):
    """Who may not start bulk work gets 403; for who may, each row is judged as its own
    delete would be: a row they do not see is "not found" (its name never shown), one they
    see but may not delete is refused; refused rows stay as they were."""
    from salesplan.core.registry import scope_for

    user, rule = actor(org, role), EXPECTED[role][resource]
    client.force_login(user)
    records = {whose: make_record(resource, owner(org, whose)) for whose in OWNERS}
    before = {whose: snapshot(record) for whose, record in records.items()}
    body = {"action": "delete", "ids": [r.pk for r in records.values()], "preview": False}
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/api/v1/{PLURAL[resource]}/bulk", json.dumps(body),
                             content_type="application/json")
    if scope_for(user, resource, "bulk_change") == "none":
        assert answer.status_code == 403
        assert {w: snapshot(r) for w, r in records.items()} == before
        return
    assert answer.status_code == 202, answer.content
    job = json.loads(client.get(f"/api/v1/jobs/{json.loads(answer.content)['id']}").content)
    outcome = {row["id"]: row for row in job["result"]["rows"]}
    for whose, record in records.items():
        row = outcome[record.pk]
        if rule.allows("delete", whose):
            assert row["status"] == "done", (whose, row)
        else:
            assert row["status"] == "refused" and row["reason"], (whose, row)
            assert snapshot(record) == before[whose], f"refused delete of {whose}'s wrote"
        if not rule.allows("view", whose):
            assert row["reason"] == "Not found, or not a record you may see."
