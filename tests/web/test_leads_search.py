"""Converting a lead from its page, and the global search."""

from salesplan.customers.models import Account, LeadStatus
from tests.factories import make_account, make_contact, make_lead


def test_convert_page_offers_likely_duplicates_and_reuses_one(login, org):
    existing = make_account(org.west_rep, name="Lead Co", domain="leadco.com")
    lead = make_lead(org.west_rep, company="Lead Co", email="ann@leadco.com",
                     first_name="Ann", last_name="Lee")
    client = login(org.west_rep)
    page = client.get(f"/leads/{lead.pk}/convert/").content.decode()
    assert "Possible duplicates" in page and "Use existing account: Lead Co" in page
    response = client.post(f"/leads/{lead.pk}/convert/", {
        "account_choice": str(existing.pk), "contact_choice": "new",
        "create_opportunity": "on", "opportunity_name": "Lead Co pilot", "amount": "1200",
        "close_date": "2027-03-01"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED and lead.converted_account == existing
    assert lead.converted_opportunity.name == "Lead Co pilot"
    assert Account.objects.count() == 1


def test_convert_can_create_new_records(login, org):
    lead = make_lead(org.west_rep, company="Fresh Co")
    response = login(org.west_rep).post(f"/leads/{lead.pk}/convert/", {
        "account_choice": "new", "contact_choice": "new"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.converted_account.name == "Fresh Co" and lead.converted_opportunity is None


def test_convert_is_refused_for_others(login, org):
    lead = make_lead(org.east_rep)
    assert login(org.west_rep).get(f"/leads/{lead.pk}/convert/").status_code == 404
    assert login(org.executive).post(f"/leads/{lead.pk}/convert/", {
        "account_choice": "new", "contact_choice": "new"}).status_code == 403
    lead.refresh_from_db()
    assert lead.status != LeadStatus.CONVERTED


def test_global_search_page_and_dropdown_show_only_visible_records(login, org):
    account = make_account(org.west_rep, name="Globex")
    make_contact(org.west_rep, account, first_name="Gloria", last_name="Globe")
    make_account(org.east_rep, name="Globe East")
    client = login(org.west_rep)
    page = client.get("/search/", {"q": "glob"}).content.decode()
    assert "Globex" in page and "Gloria Globe" in page and "Globe East" not in page
    dropdown = client.get("/search/suggest/", {"q": "glob"}).content.decode()
    assert f"/accounts/{account.pk}/" in dropdown and "<html" not in dropdown
    assert "All results" in dropdown
