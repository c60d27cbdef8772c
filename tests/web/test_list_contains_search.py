"""Lists find a word anywhere in a name (any case) and free-text filters ignore case."""

from tests.factories import make_account, make_contact, make_opportunity


def _names(response) -> list[str]:
    return [str(row) for row in response.context["rows"]]


def test_search_finds_a_word_in_the_middle_of_an_account_name(login, org):
    make_account(org.west_rep, name="Northwind Pharma Holdings")
    make_account(org.west_rep, name="Delta Pneumatics Inc")
    make_account(org.west_rep, name="Zenith Foods")
    client = login(org.west_rep)
    assert _names(client.get("/accounts/", {"q": "pharma"})) == ["Northwind Pharma Holdings"]
    assert _names(client.get("/accounts/", {"q": "Pneumatics"})) == ["Delta Pneumatics Inc"]


def test_account_search_covers_industry_and_city(login, org):
    make_account(org.west_rep, name="Alpha", industry="Biotech", city="Sacramento")
    make_account(org.west_rep, name="Beta", industry="Retail", city="Fresno")
    client = login(org.west_rep)
    assert _names(client.get("/accounts/", {"q": "BIOTECH"})) == ["Alpha"]
    assert _names(client.get("/accounts/", {"q": "fresno"})) == ["Beta"]


def test_state_and_industry_filters_ignore_case(login, org):
    make_account(org.west_rep, name="Alpha", industry="Pharma", state="California")
    make_account(org.west_rep, name="Beta", industry="Retail", state="Oregon")
    client = login(org.west_rep)
    assert _names(client.get("/accounts/", {"state": "california"})) == ["Alpha"]
    assert _names(client.get("/accounts/", {"industry": "pharma"})) == ["Alpha"]


def test_contact_search_finds_part_of_the_email(login, org):
    account = make_account(org.west_rep, name="Acme")
    make_contact(org.west_rep, account, first_name="Ann", last_name="Lee",
                 email="ann.lee@northwindpharma.com")
    make_contact(org.west_rep, account, first_name="Bob", last_name="Roe", email="bob@x.com")
    client = login(org.west_rep)
    assert _names(client.get("/contacts/", {"q": "PHARMA"})) == ["Ann Lee"]


def test_opportunity_search_finds_the_account_name(login, org):
    account = make_account(org.west_rep, name="Northwind Pharma")
    make_opportunity(org.west_rep, account, name="Renewal 2027")
    make_opportunity(org.west_rep, make_account(org.west_rep, name="Other"), name="Upsell")
    client = login(org.west_rep)
    assert _names(client.get("/opportunities/", {"q": "pharma"})) == ["Renewal 2027"]


def test_keyset_paging_keeps_the_search(login, org, settings):
    settings.LIST_PAGE_SIZE = 2
    for i in range(5):
        make_account(org.west_rep, name=f"Firm {i} Pharma")
    make_account(org.west_rep, name="Firm Z Retail")
    client = login(org.west_rep)
    first = client.get("/accounts/", {"q": "pharma"})
    seen = _names(first)
    cursor = first.context["page"].next_cursor
    while cursor:
        page = client.get("/accounts/", {"q": "pharma", "cursor": cursor})
        seen += _names(page)
        cursor = page.context["page"].next_cursor
    assert seen == [f"Firm {i} Pharma" for i in range(5)]
