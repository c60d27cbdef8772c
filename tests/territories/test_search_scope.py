"""The global search finds what a user sees through their territories as well as what
their team owns, and nothing else, whichever way it reads the matches."""

import pytest

from salesplan.customers.models import Account, Contact
from salesplan.pipeline.models import Opportunity
from salesplan.search.selectors import global_search

from ..factories import make_contact, make_opportunity


def one_query(model, user, key: str, limit: int) -> list[int]:
    """The first matches as one query over everything the user sees would give them."""
    return list(model.objects.visible_to(user).filter(name_key__startswith=key)
                .order_by("name_key", "id").values_list("id", flat=True)[:limit])


@pytest.mark.parametrize("limit", [2, 8])
def test_search_finds_owned_and_territory_records_only(org, active_map, search_form, limit):
    bay, nyc = Account.objects.get(name="Bay Co"), Account.objects.get(name="Manhattan Co")
    make_opportunity(org.west_rep, nyc, name="Zed own outside territory")
    make_opportunity(org.west_rep, bay, name="Zed own in territory")
    make_opportunity(org.admin, bay, name="Zed colleague's in territory")
    make_opportunity(org.admin, bay, name="Zed another in territory")
    make_opportunity(org.admin, nyc, name="Zed colleague's outside territory")
    make_opportunity(org.east_rep, nyc, name="Zed east")
    make_contact(org.admin, bay, first_name="Ann", last_name="Zed")
    make_contact(org.admin, nyc, first_name="Bob", last_name="Zed")

    found = global_search(org.west_rep, "zed", per_type=limit)
    titles = {hit.title for hit in found["opportunity"]}
    assert titles <= {"Zed own outside territory", "Zed own in territory",
                      "Zed colleague's in territory", "Zed another in territory"}
    for user in (org.west_rep, org.west_manager, org.east_rep, org.vp):
        found = global_search(user, "zed", per_type=limit)
        assert [hit.id for hit in found["opportunity"]] == one_query(
            Opportunity, user, "zed", limit), user.username
        assert [hit.id for hit in found["contact"]] == one_query(
            Contact, user, "zed", limit), user.username
    assert [hit.title for hit in global_search(org.west_rep, "zed")["contact"]] == [
        "Ann Zed"]
    assert global_search(org.west_rep, "zz")["opportunity"] == []
