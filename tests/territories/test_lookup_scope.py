"""The record pickers offer what a user sees through their territories as well as what
their team owns, and nothing else, in name order, whichever way they read the matches."""

import pytest

from salesplan.core.listing import prefix_search_q
from salesplan.customers.models import Account, Contact
from salesplan.pipeline.models import Opportunity
from salesplan.search import selectors

from ..factories import make_account, make_contact, make_opportunity


def one_query(model, user, fields: tuple[str, ...], term: str, limit: int) -> list[int]:
    """What the picker offered as one query over everything the user sees."""
    return list(model.objects.visible_to(user).filter(prefix_search_q(fields, term))
                .order_by("name_key", "id").values_list("id", flat=True)[:limit])


def offered(client, user, kind: str, term: str) -> list[int]:
    client.force_login(user)
    response = client.get(f"/lookup/{kind}/", {"q": term})
    assert response.status_code == 200
    return [row.pk for row in response.context["rows"]]


@pytest.mark.parametrize("limit", [2, 10])
def test_pickers_offer_owned_and_territory_records_in_name_order(
        client, org, active_map, search_form, monkeypatch, limit):
    monkeypatch.setattr(selectors, "LOOKUP_SIZE", limit)
    bay, nyc = Account.objects.get(name="Bay Co"), Account.objects.get(name="Manhattan Co")
    # Matches by email or domain sort among (and before) the matches by name.
    make_contact(org.admin, bay, first_name="Ann", last_name="Zed")
    make_contact(org.admin, bay, first_name="Al", last_name="Able", email="zed@bay.example")
    make_contact(org.west_rep, nyc, first_name="Yo", last_name="Young", email="zed@y.example")
    make_contact(org.west_rep, nyc, first_name="Cy", last_name="Zed")
    make_contact(org.admin, nyc, first_name="Bob", last_name="Zed", email="zed@nyc.example")
    make_contact(org.east_rep, nyc, first_name="Di", last_name="Aaron", email="zed@e.example")
    make_account(org.west_rep, name="Zed Own", domain="own.example")
    make_account(org.west_rep, name="Beta Own", domain="zed.example")
    make_account(org.admin, name="Alpha Other", domain="zed-other.example")
    make_opportunity(org.admin, bay, name="Zed colleague's in territory")
    make_opportunity(org.west_rep, nyc, name="Zed own outside territory")
    make_opportunity(org.admin, nyc, name="Zed colleague's outside territory")

    if limit == 10:  # what the west rep is offered, by name: not others' records in NYC
        assert [str(Contact.objects.get(pk=pk)) for pk in offered(
            client, org.west_rep, "contacts", "zed")] == ["Al Able", "Yo Young", "Ann Zed",
                                                         "Cy Zed"]
    for user in (org.west_rep, org.west_manager, org.east_rep, org.vp):
        for kind, model, fields in (("contacts", Contact, ("name_key", "email")),
                                    ("accounts", Account, ("name_key", "domain")),
                                    ("opportunities", Opportunity, ("name_key",))):
            assert offered(client, user, kind, "zed") == one_query(
                model, user, fields, "zed", limit), (user.username, kind)
    assert offered(client, org.west_rep, "contacts", "zz") == []


def test_picker_orders_by_name_what_it_finds_by_email(client, org, active_map, monkeypatch):
    """The first emails in the index are not the first names: a window holding a page of
    them is not the page."""
    monkeypatch.setattr(selectors, "LOOKUP_SIZE", 2)
    monkeypatch.setattr(selectors, "WALKED_RANGE", 2)
    bay = Account.objects.get(name="Bay Co")
    for last_name, email in (("Zz", "zed-a@x.example"), ("Zy", "zed-b@x.example"),
                             ("Aa", "zed-c@x.example"), ("Ab", "zed-d@x.example")):
        make_contact(org.west_rep, bay, first_name="Pat", last_name=last_name, email=email)
    for user in (org.west_rep, org.west_manager):
        assert [str(Contact.objects.get(pk=pk)) for pk in offered(
            client, user, "contacts", "zed")] == ["Pat Aa", "Pat Ab"]
