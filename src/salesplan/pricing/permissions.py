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

# The catalogue's record types (families, products, price books and their entries,
# rules, tax and exchange rates) declare their operations where pricing/api.py installs
# them with the record kit; these are the rest.
register_operations("""
PUT  /pricing/products/{product_id}/components             catalogue.change
PUT  /pricing/price-books/{book_id}/entries/{product_id}   catalogue.change
GET  /pricing/convert                                      catalogue.view
POST /pricing/price                                        catalogue.view
""")  # pricing lines reads the catalogue (and the account, which must be visible)
