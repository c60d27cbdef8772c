"""The record kit's lookups for a record type that lives under a parent: the parent is
read with the user's rights first, so a child under a parent the user may not see is
not found, exactly like a missing one — whatever the child's own visibility."""

import pytest
from ninja import Schema

from salesplan.core.errors import NotFound
from salesplan.core.record_kit import Parent, RecordType
from salesplan.core.selectors import get_visible
from salesplan.customers.models import Account, Contact
from tests.factories import make_account, make_contact


class ContactRowOut(Schema):
    id: int
    last_name: str


# Every contact (no visibility rule of their own), listed under the accounts one sees.
CONTACTS = RecordType(
    name="account_contact", plural="account_contacts", path="contacts", resource="contact",
    model=Contact, rows=lambda user: Contact.objects.all(), out=ContactRowOut,
    parent=Parent(segment="accounts", param="account_id", field="account",
                  lookup=lambda user, pk: get_visible(Account, user, pk), label="account"))


def test_a_child_is_found_only_under_its_own_parent_the_user_may_see(org):
    west_account = make_account(org.west_rep)
    east_account = make_account(org.east_rep)
    contact = make_contact(org.west_rep, west_account)
    assert CONTACTS.find(org.west_rep, contact.pk, west_account.pk) == contact
    with pytest.raises(NotFound):  # a parent the user may not see
        CONTACTS.find(org.east_rep, contact.pk, west_account.pk)
    with pytest.raises(NotFound):  # another parent than its own
        CONTACTS.find(org.admin, contact.pk, east_account.pk)
    with pytest.raises(NotFound):
        CONTACTS.list_rows(org.east_rep, {}, west_account.pk)
    assert list(CONTACTS.list_rows(org.west_manager, {}, west_account.pk)) == [contact]


def test_the_generated_routes_are_declared_with_the_parts_a_type_has():
    routes = {(method, path, action) for method, path, action in CONTACTS.operations("/x")}
    item = "/x/accounts/{account_id}/contacts/{id}"
    assert ("GET", "/x/accounts/{account_id}/contacts/export.csv", "view") in routes
    assert ("DELETE", item, "delete") not in routes  # no delete service: no route
    assert ("GET", f"{item}/audit", "view") in routes
