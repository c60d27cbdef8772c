"""The permission matrix through the services layer: what every interface builds on."""

import pytest
from django.core.exceptions import PermissionDenied

from salesplan.activities import services as activities
from salesplan.core.errors import NotFound
from salesplan.core.permissions import PERMISSIONS
from salesplan.core.selectors import get_visible
from salesplan.customers import services as customers
from salesplan.customers.selectors import account_list, contact_list, lead_list
from salesplan.org.models import Role
from salesplan.pipeline import services as pipeline
from salesplan.pipeline.selectors import opportunity_list

from .matrix import (
    CHANGES,
    EXPECTED,
    MODELS,
    OWNERS,
    ROLES,
    actor,
    cells,
    creation_data,
    make_record,
    owner,
    snapshot,
)

CREATE = {"account": customers.create_account, "contact": customers.create_contact,
          "lead": customers.create_lead, "opportunity": pipeline.create_opportunity,
          "activity": activities.log_activity}
UPDATE = {"account": customers.update_account, "contact": customers.update_contact,
          "lead": customers.update_lead, "opportunity": pipeline.update_opportunity,
          "activity": activities.update_activity}
DELETE = {"account": customers.delete_account, "contact": customers.delete_contact,
          "lead": customers.delete_lead, "opportunity": pipeline.delete_opportunity,
          "activity": activities.delete_activity}
LIST = {"account": account_list, "contact": contact_list, "lead": lead_list,
        "opportunity": opportunity_list,
        "activity": lambda user, params: MODELS["activity"].objects.visible_to(user)}


def test_every_role_has_an_expectation():
    assert set(ROLES) == set(Role.values) == set(EXPECTED) == set(PERMISSIONS)


def _can_view(user, resource, record) -> bool:
    in_list = LIST[resource](user, {}).filter(pk=record.pk).exists()
    try:
        get_visible(MODELS[resource], user, record.pk)
        detail = True
    except NotFound:
        detail = False
    assert in_list == detail, f"list and detail disagree for {resource} {record.pk}"
    return detail


def _try(call) -> bool:
    try:
        call()
    except (PermissionDenied, NotFound):
        return False
    return True


@pytest.mark.parametrize(("role", "resource"), cells())
def test_services_follow_the_matrix(org, role, resource):
    user, rule = actor(org, role), EXPECTED[role][resource]
    model = MODELS[resource]
    wrong: list[str] = []

    before = model.objects.count()
    created = _try(lambda: CREATE[resource](by=user, data=creation_data(resource, user)))
    if created != rule.create:
        wrong.append(f"create: got {created}, expected {rule.create}")
    if not created:
        assert model.objects.count() == before, "a refused create wrote a row"

    for whose in OWNERS:
        record = make_record(resource, owner(org, whose))
        if _can_view(user, resource, record) != rule.allows("view", whose):
            wrong.append(f"view {whose}'s: expected {rule.allows('view', whose)}")

        row = snapshot(record)
        changed = _try(lambda r=record: UPDATE[resource](r, by=user, data=CHANGES[resource]))
        if changed != rule.allows("change", whose):
            wrong.append(f"change {whose}'s: got {changed}")
        if not changed:
            assert snapshot(record) == row, f"refused change of {whose}'s {resource} wrote"

        record = model.objects.get(pk=record.pk)
        row = snapshot(record)
        deleted = _try(lambda r=record: DELETE[resource](r, by=user))
        if deleted != rule.allows("delete", whose):
            wrong.append(f"delete {whose}'s: got {deleted}")
        assert (snapshot(record) is None) == deleted
        if not deleted:
            assert snapshot(record) == row, f"refused delete of {whose}'s {resource} wrote"

    assert wrong == [], f"{role} × {resource}: " + "; ".join(wrong)
