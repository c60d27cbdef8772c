"""Forms of the quote pages; they only read input, the services decide."""

from decimal import Decimal

from django import forms

from salesplan.core.money import CURRENCY_CHOICES
from salesplan.customers.models import Contact
from salesplan.pricing.models import PriceBook, Product, TaxRate

from .models import ApprovalRule, ApproverLevel, RuleMetric


class DateInput(forms.DateInput):
    input_type = "date"


class NewQuoteForm(forms.Form):
    title = forms.CharField(max_length=200, required=False,
                            help_text="Leave empty to use the opportunity's name.")


class TermsForm(forms.Form):
    title = forms.CharField(max_length=200)
    contact = forms.ModelChoiceField(queryset=Contact.objects.none(), required=False)
    currency = forms.ChoiceField(choices=CURRENCY_CHOICES)
    price_book = forms.ModelChoiceField(queryset=PriceBook.objects.filter(active=True),
                                        required=False, empty_label="The best book for the "
                                                                    "customer")
    tax_region = forms.ChoiceField(choices=[], required=False)
    valid_until = forms.DateField(widget=DateInput)
    payment_terms = forms.CharField(max_length=500, required=False)
    delivery_terms = forms.CharField(max_length=500, required=False)
    introduction = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                                   max_length=5000)

    def __init__(self, *args, contacts=None, **kwargs):
        super().__init__(*args, **kwargs)
        if contacts is not None:
            self.fields["contact"].queryset = contacts  # type: ignore[attr-defined]
        regions = sorted({rate.region for rate in TaxRate.objects.all()})
        self.fields["tax_region"].choices = [("", "The customer's region")] + [  # type: ignore[attr-defined]
            (r, r) for r in regions]

    def clean_tax_region(self) -> str:
        return self.cleaned_data.get("tax_region") or ""


class LineForm(forms.Form):
    product = forms.ModelChoiceField(
        queryset=Product.objects.filter(active=True).order_by("sku"))
    quantity = forms.DecimalField(min_value=Decimal("0.0001"), max_digits=14, decimal_places=4,
                                  initial=1)
    discount_pct = forms.DecimalField(label="Extra discount (%)", min_value=Decimal(0),
                                      max_value=Decimal(100), max_digits=7, decimal_places=4,
                                      initial=0, required=False)

    def clean_discount_pct(self) -> Decimal:
        return self.cleaned_data.get("discount_pct") or Decimal(0)


class LineChangeForm(forms.Form):
    quantity = forms.DecimalField(min_value=Decimal("0.0001"), max_digits=14, decimal_places=4)
    discount_pct = forms.DecimalField(min_value=Decimal(0), max_value=Decimal(100),
                                      max_digits=7, decimal_places=4)


class CommentForm(forms.Form):
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                              max_length=2000)


class RuleForm(forms.ModelForm):
    metric = forms.ChoiceField(choices=RuleMetric.choices)
    approver = forms.ChoiceField(choices=ApproverLevel.choices)

    class Meta:
        model = ApprovalRule
        fields = ["name", "metric", "threshold_pct", "approver", "step", "active"]


class TemplateForm(forms.Form):
    html = forms.CharField(widget=forms.Textarea(attrs={"rows": 30, "class": "wide"}),
                           required=False, max_length=200_000,
                           help_text="A Django template; empty goes back to the built-in one.")
    primary_colour = forms.CharField(max_length=7)
    accent_colour = forms.CharField(max_length=7)
