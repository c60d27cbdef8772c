"""The catalogue and its prices in the permission registry: everyone who works in
Salesplan reads them (a rep needs them to quote); only admins change them."""

from salesplan.core.registry import (
    ADMIN,
    ALL,
    EXECUTIVE,
    MANAGER,
    MARKETING,
    REP,
    register,
    register_operations,
)

register("catalogue", "view", {ADMIN: ALL, MANAGER: ALL, REP: ALL, MARKETING: ALL,
                               EXECUTIVE: ALL}, doc="read the catalogue")
register("catalogue", "change", {ADMIN: ALL},
         doc="change the catalogue and its prices (only an admin may)")

_PATHS = {
    "/pricing/families": "GET POST", "/pricing/families/{family_id}": "GET PATCH DELETE",
    "/pricing/products": "GET POST", "/pricing/products/{product_id}": "GET PATCH DELETE",
    "/pricing/products/{product_id}/components": "PUT",
    "/pricing/price-books": "GET POST", "/pricing/price-books/{book_id}": "GET PATCH DELETE",
    "/pricing/price-books/{book_id}/entries": "GET",
    "/pricing/price-books/{book_id}/entries/{product_id}": "PUT DELETE",
    "/pricing/rules": "GET POST", "/pricing/rules/{rule_id}": "GET PATCH DELETE",
    "/pricing/tax-rates": "GET POST", "/pricing/tax-rates/{tax_id}": "PATCH DELETE",
    "/pricing/exchange-rates": "GET POST", "/pricing/exchange-rates/{rate_id}": "DELETE",
    "/pricing/convert": "GET",
}
register_operations("\n".join(
    [f"{m} {path} catalogue.{'view' if m == 'GET' else 'change'}"
     for path, methods in _PATHS.items() for m in methods.split()]
    # Pricing lines reads the catalogue (and the account, which must be visible).
    + ["POST /pricing/price catalogue.view"]))
