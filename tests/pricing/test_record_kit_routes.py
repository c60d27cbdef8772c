"""What the record kit gives the catalogue's record types beyond the hand-written API
it replaced: CSV exports of what the user may see, routes under a parent that answer
404 for another book's prices, the version on every generated change and delete, and
each record's history."""

import csv
import io

from salesplan.pricing.models import PriceBookEntry, TaxRate

from ..api.conftest import API, assert_problem

P = "/pricing"


def _csv(caller, path: str, **params) -> list[dict[str, str]]:
    response = caller.client.get(API + path, data=params, headers=caller.headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_export_holds_only_the_rules_the_user_may_see(org, api_as, catalogue):
    east = _csv(api_as(org.east_rep), f"{P}/rules/export.csv")
    names = {row["name"] for row in east}
    assert catalogue.promotion.name in names
    assert catalogue.contract.name not in names  # the contract of an account east cannot see
    west = _csv(api_as(org.west_manager), f"{P}/rules/export.csv")
    assert catalogue.contract.name in {row["name"] for row in west}


def test_the_export_takes_the_lists_filters_and_keeps_formulas_as_text(org, api_as,
                                                                       catalogue):
    admin = api_as(org.admin)
    created = admin.post(f"{P}/products", {"sku": "EVIL-1", "name": "=SUM(A1)", "description": "+1",
                                           "family_id": catalogue.hardware.pk})
    assert created.status_code == 201, created.data
    rows = _csv(admin, f"{P}/products/export.csv", kind="service")
    assert [row["sku"] for row in rows] == ["SV-INST"]
    every = {row["sku"]: row for row in _csv(admin, f"{P}/products/export.csv")}
    assert every["EVIL-1"]["name"] == "'=SUM(A1)" and every["EVIL-1"]["description"] == "'+1"
    assert every["RT-100"]["family_name"] == "Hardware"


def test_a_price_is_read_and_removed_only_under_its_own_book(org, api_as, catalogue):
    admin = api_as(org.admin)
    switch, usd, eur = catalogue.switch, catalogue.usd, catalogue.eur
    own = admin.get(f"{P}/price-books/{usd.pk}/entries/{switch.pk}")
    assert own.status_code == 200 and own.data["list_price"] == "50.0000"
    assert_problem(admin.get(f"{P}/price-books/{eur.pk}/entries/{switch.pk}"), 404)
    assert_problem(admin.get(f"{P}/price-books/999999/entries/{switch.pk}"), 404)
    assert_problem(admin.get(f"{P}/price-books/999999/entries"), 404)
    assert_problem(admin.get(f"{P}/price-books/{10**30}/entries/{switch.pk}"), 404)
    assert_problem(admin.get(f"{P}/price-books/{usd.pk}/entries/{10**30}"), 404)
    assert_problem(admin.delete(f"{P}/price-books/{eur.pk}/entries/{switch.pk}"
                                f"?version={own.data['version']}"), 404)
    assert PriceBookEntry.objects.filter(price_book=usd, product=switch).exists()
    listed = admin.get(f"{P}/price-books/{eur.pk}/entries").data["items"]
    assert [e["sku"] for e in listed] == ["RT-100"]


def test_generated_changes_and_deletes_carry_the_version(org, api_as, catalogue):
    admin = api_as(org.admin)
    tax = TaxRate.objects.get(country="US", state="CA")
    url = f"{P}/tax-rates/{tax.pk}"
    assert_problem(admin.patch(url, {"name": "California State"}), 428, "version")
    changed = admin.patch(url, {"name": "California State", "version": tax.version})
    assert changed.status_code == 200 and changed.data["version"] == tax.version + 1
    assert_problem(admin.patch(url, {"name": "Stale", "version": tax.version}), 409)
    assert_problem(admin.delete(url), 428, "version")
    assert_problem(admin.delete(f"{url}?version={tax.version}"), 409)
    assert TaxRate.objects.get(pk=tax.pk).name == "California State"
    assert admin.delete(f"{url}?version={tax.version + 1}").status_code == 204
    assert not TaxRate.objects.filter(pk=tax.pk).exists()


def test_a_records_history_is_read_newest_first(org, api_as, catalogue):
    admin = api_as(org.admin)
    router = catalogue.router
    admin.patch(f"{P}/products/{router.pk}", {"name": "Router II", "version": router.version})
    history = api_as(org.west_rep).get(f"{P}/products/{router.pk}/audit").data["items"]
    assert history[0]["field"] == "name" and history[0]["new_value"] == "Router II"
    assert history[-1]["action"] == "create"
