"""What pricing hands to the rest of the product (quotes, proposals, the API):
frozen dataclasses, Decimal everywhere.

- `LineRequest(product_id, quantity, discount_pct=0)`: a line to price; `discount_pct`
  is the rep's extra manual discount in percent (0–100) on top of the rules.
- `PricedLine`: index (0-based, as in the request), product_id, sku, name, unit, quantity,
  list_unit_price, net_unit_price (4 decimals), discount_pct (effective, vs list),
  line_net (excl. tax, minor units), tax_rate (percent), tax_amount, line_total,
  unit_cost, margin, margin_pct (None when line_net is 0), floor_price (None when no
  floor), below_floor, below_min_margin, explanation (which rule set the price), and
  list_amount (quantity × list, rounded), min_margin_pct (the minimum that applies),
  rule_ids (the pricing rules that changed the price).
- `PricedQuote`: currency, price_book_id, lines, subtotal, discount_total, tax_total,
  total, prices_include_tax, max_discount_pct, min_margin_pct, tax_label.

The rounding rule is documented in `salesplan.engines.pricing`.
`salesplan.pricing.services.price_lines(...)` returns a PricedQuote.
"""

from salesplan.engines.pricing import LineRequest, PricedLine, PricedQuote

__all__ = ["LineRequest", "PricedLine", "PricedQuote"]
