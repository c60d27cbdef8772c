"""The permission matrix through the HTML pages.

Detail pages and edit forms of records the user may not see answer 404 and leak nothing;
edit forms the user may not use answer 403 (or 404); refused posts change nothing.
Deleting is not offered by the pages (only the API and admin), so it is covered there.
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
    return wrong
