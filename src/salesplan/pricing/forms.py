"""Forms of the pricing pages; the services check permissions and the business rules."""

from decimal import Decimal, InvalidOperation
from typing import cast

from django import forms

from salesplan.core.clock import company_today
from salesplan.core.money import CURRENCY_CHOICES

from .models import (
    ExchangeRate,
    PriceBook,
    PricingRule,
    Product,
    ProductFamily,
    TaxRate,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class FamilyForm(forms.ModelForm):
    class Meta:
        model = ProductFamily
        fields = ["name", "parent", "description", "max_discount_pct", "min_margin_pct"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = ["sku", "name", "family", "kind", "unit", "cost", "cost_currency", "active",
                  "description", "max_discount_pct", "min_margin_pct"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class ComponentsForm(forms.Form):
    components = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One component a line: SKU QUANTITY (e.g. RT-100 2).")

    def clean_components(self) -> list[tuple[str, Decimal]]:
        return [(sku, qty) for sku, qty, _ in parse_sku_lines(
            self.cleaned_data["components"], with_discount=False)]


class PriceBookForm(forms.ModelForm):
    class Meta:
        model = PriceBook
        fields = ["name", "currency", "is_standard", "segment", "region", "tier",
                  "valid_from", "valid_to", "active", "description"]
        widgets = {"valid_from": DATE, "valid_to": DATE,
                   "description": forms.Textarea(attrs={"rows": 2})}

    def validate_unique(self) -> None:
        """A new standard book replaces the old one: the service settles uniqueness."""


class EntryForm(forms.Form):
    sku = forms.CharField(label="SKU", max_length=64)
    list_price = forms.DecimalField(min_value=Decimal(0), max_digits=18, decimal_places=4)
    floor_price = forms.DecimalField(min_value=Decimal(0), max_digits=18, decimal_places=4,
                                     required=False)


class RuleForm(forms.ModelForm):
    account_id = forms.IntegerField(required=False, min_value=1, label="Account id",
                                    help_text="Contracted prices only.")
    tiers = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                            help_text="Volume and block rules: one tier a line, FROM PRICE "
                                      "(e.g. 1 100 then 11 90).")

    class Meta:
        model = PricingRule
        fields = ["name", "kind", "product", "family", "price_book", "currency", "unit_price",
                  "discount_pct", "min_quantity", "valid_from", "valid_to", "active",
                  "description"]
        widgets = {"valid_from": DATE, "valid_to": DATE,
                   "description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        currency = cast(forms.ChoiceField, self.fields["currency"])
        currency.choices = [("", "—")] + list(CURRENCY_CHOICES)
        cast(forms.ModelChoiceField, self.fields["product"]).queryset = \
            Product.objects.order_by("sku")
        if self.instance.pk:
            self.fields["kind"].disabled = True
            self.initial["account_id"] = self.instance.account_id
            self.initial["tiers"] = "\n".join(f"{t.min_quantity.normalize():f} "
                                              f"{t.price.normalize():f}"
                                              for t in self.instance.tiers.all())

    def _post_clean(self) -> None:
        """The services validate the rule as a whole (with its tiers)."""

    def clean_tiers(self) -> list[tuple[Decimal, Decimal]] | None:
        text = self.cleaned_data["tiers"].strip()
        if not text:
            return None
        tiers = []
        for number, line in enumerate(text.splitlines(), start=1):
            parts = line.replace(":", " ").split()
            if not parts:
                continue
            try:
                start, price = (Decimal(p) for p in parts)
            except (ValueError, InvalidOperation) as exc:
                raise forms.ValidationError(
                    f"Line {number}: write FROM PRICE, e.g. “11 90”.") from exc
            tiers.append((start, price))
        return tiers


class TaxRateForm(forms.ModelForm):
    class Meta:
        model = TaxRate
        fields = ["name", "country", "state", "rate", "prices_include_tax"]


class ExchangeRateForm(forms.ModelForm):
    class Meta:
        model = ExchangeRate
        fields = ["base", "quote", "rate", "date"]
        widgets = {"date": DATE}
        help_texts = {"rate": "How many of the quote currency one unit of the base buys."}

    def validate_unique(self) -> None:
        """Recording a pair again on the same date updates its rate (the service does)."""


class ConvertForm(forms.Form):
    amount = forms.DecimalField(min_value=Decimal(0), max_digits=18, decimal_places=4)
    source = forms.ChoiceField(choices=CURRENCY_CHOICES, label="From")
    target = forms.ChoiceField(choices=CURRENCY_CHOICES, label="To")
    on = forms.DateField(widget=DATE, required=False, label="On",
                         help_text="Default: today.")


class PriceCheckForm(forms.Form):
    account_id = forms.IntegerField(min_value=1, label="Account id")
    currency = forms.ChoiceField(choices=[("", "The account's currency"), *CURRENCY_CHOICES],
                                 required=False)
    on_date = forms.DateField(widget=DATE, required=False, label="Price on",
                              help_text="Default: today.")
    price_book = forms.ModelChoiceField(queryset=PriceBook.objects.filter(active=True),
                                        required=False, empty_label="The account's book")
    tax_region = forms.CharField(max_length=20, required=False,
                                 help_text="US-CA, DE…; blank: the account's region.")
    lines = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}),
                            help_text="One line each: SKU QUANTITY [DISCOUNT %], "
                                      "e.g. RT-100 11 5.")

    def clean_lines(self) -> list[tuple[str, Decimal, Decimal]]:
        return parse_sku_lines(self.cleaned_data["lines"], with_discount=True)

    def clean_on_date(self):
        return self.cleaned_data["on_date"] or company_today()


def parse_sku_lines(text: str, *, with_discount: bool) -> list[tuple[str, Decimal, Decimal]]:
    """"SKU QTY [DISCOUNT]" lines (colons work too); a bad line is named by its number."""
    rows = []
    most = 3 if with_discount else 2
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.replace(":", " ").replace(",", " ").split()
        if not parts:
            continue
        if not 2 <= len(parts) <= most:
            raise forms.ValidationError(
                f"Line {number}: write SKU QUANTITY{' [DISCOUNT]' if with_discount else ''}.")
        try:
            quantity = Decimal(parts[1])
            discount = Decimal(parts[2]) if len(parts) == 3 else Decimal(0)
        except InvalidOperation as exc:
            raise forms.ValidationError(f"Line {number}: “{line.strip()}” has a value that "
                                        "is not a number.") from exc
        rows.append((parts[0], quantity, discount))
    if not rows:
        raise forms.ValidationError("Enter at least one line.")
    return rows
