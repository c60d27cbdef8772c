"""The permission matrix through the HTML pages.

Detail pages, edit forms and delete pages of records the user may not see answer 404 and
leak nothing; those the user may see but not use answer 403; refused posts change
nothing, allowed ones save or delete.
"""

import pytest

from .forms import main_form_values
from .matrix import (
    CHANGES,
    EXPECTED,
    MODELS,
    OWNERS,
    PLURAL,
    actor,
    cells,
    make_record,
    owner,
    snapshot,
    tell_tale,
)


@pytest.mark.parametrize(("role", "resource"), cells())
def test_pages_follow_the_matrix(client, org, role, resource):
    user, rule = actor(org, role), EXPECTED[role][resource]
    base = f"/{PLURAL[resource]}"
    client.force_login(user)
    wrong: list[str] = []

    new_form = client.get(f"{base}/new/")
    if (new_form.status_code == 200) != rule.create:
        wrong.append(f"new form: {new_form.status_code}")
    if not rule.create and new_form.status_code not in (403, 404):
        wrong.append(f"new form for a role that may not create: {new_form.status_code}")

    for whose in OWNERS:
        record = make_record(resource, owner(org, whose))
        wrong += _check_record(client, base, resource, rule, whose, record)
    assert wrong == [], f"{role} × {resource}: " + "; ".join(wrong)


def _check_record(client, base, resource, rule, whose, record) -> list[str]:
    wrong = []
    visible = rule.allows("view", whose)
    secret = tell_tale(record)
    detail = client.get(f"{base}/{record.pk}/")
    if detail.status_code != (200 if visible else 404):
        wrong.append(f"view {whose}'s: {detail.status_code}")
    if not visible:
        assert secret not in detail.content.decode(), "a hidden record leaked"
    listing = client.get(f"{base}/")
    linked = f'href="{base}/{record.pk}/"' in listing.content.decode()
    if listing.status_code == 200 and linked != visible:
        wrong.append(f"list {whose}'s: linked={linked}")

    edit_url = f"{base}/{record.pk}/edit/"
    edit = client.get(edit_url)
    may_change = rule.allows("change", whose)
    if may_change:
        if edit.status_code != 200:
            return [*wrong, f"edit form {whose}'s: {edit.status_code}"]
        data = {**main_form_values(edit.content.decode()), **CHANGES[resource]}
        response = client.post(edit_url, data)
        model = MODELS[resource]
        field, value = next(iter(CHANGES[resource].items()))
        saved = model.objects.filter(pk=record.pk, **{field: value}).exists()
        if response.status_code != 302 or not saved:
            wrong.append(f"change {whose}'s: {response.status_code}, saved={saved}")
    else:
        if edit.status_code not in ((403,) if visible else (404,)):
            wrong.append(f"edit form {whose}'s: {edit.status_code}")
        row = snapshot(record)
        response = client.post(edit_url, {**CHANGES[resource]})
        if response.status_code not in (403, 404):
            wrong.append(f"change {whose}'s: {response.status_code}")
        assert snapshot(record) == row, f"refused change of {whose}'s {resource} wrote"
        assert secret not in response.content.decode() or visible
    return wrong + _check_delete(client, base, rule, whose, record)


def _check_delete(client, base, rule, whose, record) -> list[str]:
    delete_url = f"{base}/{record.pk}/delete/"
    visible, may_delete = rule.allows("view", whose), rule.allows("delete", whose)
    confirm = client.get(delete_url)
    expected = 200 if may_delete else (403 if visible else 404)
    wrong = [] if confirm.status_code == expected else [
        f"delete page {whose}'s: {confirm.status_code} (expected {expected})"]
    row = snapshot(record)
    response = client.post(delete_url)
    gone = snapshot(record) is None
    if may_delete != gone or (not may_delete and response.status_code != expected):
        wrong.append(f"delete {whose}'s: {response.status_code}, deleted={gone}")
    if not may_delete:
        assert snapshot(record) == row, f"refused delete of {whose}'s record wrote"
        assert tell_tale(record) not in response.content.decode() or visible
    return wrong
