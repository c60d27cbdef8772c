"""Saved list views in the list page: saving and reopening with columns and sort."""

from tests.factories import make_account


def test_a_saved_view_with_a_column_and_sort_reopens_with_them(login, org):
    make_account(org.west_rep, name="Alpha Pharma", industry="Biotech", state="California")
    make_account(org.west_rep, name="Beta Pharma", industry="Aerospace", state="California")
    make_account(org.west_rep, name="Gamma Retail", industry="Retail", state="California")
    client = login(org.west_rep)
    response = client.post("/views/save/", {
        "name": "Pharma by industry", "list_key": "accounts", "next": "/accounts/",
        "params": "q=pharma&cols=name,industry&sort=-industry"})
    assert response.status_code == 302
    page = client.get("/accounts/")
    link = page.content.decode().split('data-saved-view>')[0].rsplit('href="', 1)[1]
    link = link.split('"')[0].replace("&amp;", "&")
    reopened = client.get(link)
    assert [key for key, _ in reopened.context["columns"]] == ["name", "industry"]
    assert reopened.context["sort"] == "-industry"
    assert [row.name for row, _ in reopened.context["cells"]] == ["Alpha Pharma", "Beta Pharma"]
    body = reopened.content.decode()
    assert "<th scope=\"col\" aria-sort=\"descending\">" in body and "Biotech" in body
