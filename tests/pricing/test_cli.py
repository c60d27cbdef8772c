"""`salesplan pricing`: importing the catalogue (all or nothing) and pricing from the shell."""

from decimal import Decimal as D
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from salesplan.pricing.models import PriceBookEntry, Product, ProductFamily

GOOD = """sku,name,family,kind,unit,cost,list_price,floor_price
RT-100,Router (new name),Hardware,,,61.5,125,
FW-9,Firewall,Security,product,each,200,499.99,420
"""
BAD = """sku,name,family,list_price,cost,active
FW-9,Firewall,Security,499.99,-1,yes
AP-1,,Hardware,abc,2,maybe
FW-9,Firewall again,Security,10,1,no
"""


def _run(*args) -> str:
    out = StringIO()
    call_command("pricing", *args, stdout=out)
    return out.getvalue()


def test_import_creates_and_updates_products_with_their_list_prices(catalogue, tmp_path):
    path = tmp_path / "catalogue.csv"
    path.write_text(GOOD)
    out = _run("import-catalogue", str(path), "--price-book", "Standard USD")
    assert out.strip() == ("Imported 1 new and 1 updated products, list prices in "
                           "“Standard USD”; new families: Security.")
    router = Product.objects.get(sku="RT-100")
    assert (router.name, router.cost, router.family.name) == ("Router (new name)", D("61.5"),
                                                              "Hardware")
    firewall = PriceBookEntry.objects.get(product__sku="FW-9", price_book=catalogue.usd)
    assert (firewall.list_price, firewall.floor_price) == (D("499.99"), D(420))
    assert PriceBookEntry.objects.get(product=router, price_book=catalogue.usd).list_price \
        == D(125)


def test_a_bad_file_is_refused_whole_with_each_row_and_column_named(catalogue, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD)
    with pytest.raises(CommandError) as err:
        _run("import-catalogue", str(path), "--price-book", "Standard USD")
    message = str(err.value)
    for expected in ("row 2.cost: Must be at least 0.", "row 3.name: This column is required.",
                     "row 3.list_price: “abc” is not a number.", "row 3.active: Use yes or no.",
                     "row 4.sku: SKU FW-9 is also on row 2."):
        assert expected in message
    assert not Product.objects.filter(sku__in=["FW-9", "AP-1"]).exists()
    assert not ProductFamily.objects.filter(name="Security").exists()


def test_price_prints_each_line_with_its_reasons_and_the_totals(catalogue):
    out = _run("price", "--account", str(catalogue.account.pk), "--currency", "USD",
               "--date", "2026-06-15", "RT-100:11", "SV-INST:8:5")
    assert "10 × 100.0000 USD + 1 × 90.0000 USD = 1,090.00 USD" in out
    assert "Promotion “Summer services”: 10% off" in out
    # 1,090 + 1,026 = 2,116; tax 79.02 + 74.38 = 153.40
    assert "Subtotal USD 2,116.00" in out and "total USD 2,269.40" in out


def test_price_refuses_bad_lines_by_name(catalogue):
    with pytest.raises(CommandError, match=r"lines\[1\]\.sku: Unknown SKU NOPE"):
        _run("price", "--account", str(catalogue.account.pk), "RT-100:1", "NOPE:2")
    with pytest.raises(CommandError, match=r"lines\[0\]\.quantity: Quantity must be positive"):
        _run("price", "--account", str(catalogue.account.pk), "--date", "2026-06-15",
             "RT-100:-1")
    with pytest.raises(CommandError, match="No account"):
        _run("price", "--account", "999999", "RT-100:1")
