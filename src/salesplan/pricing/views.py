"""Pricing pages: the catalogue (products, families, bundles), price books and their
entries, pricing rules, tax and exchange rates, and the price check.

Thin: reads through pricing.selectors, writes through pricing.services (which refuse
anyone but an admin); a refusal or an invalid value comes back as a message or a form
error on the same page.
"""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import BaseForm as Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from salesplan.core.audit import history_for
from salesplan.core.clock import company_today
from salesplan.core.errors import NotFound
from salesplan.core.records import posted_version
from salesplan.core.selectors import get_visible
from salesplan.customers.models import Account

from . import access, selectors, services
from .forms import (
    ComponentsForm,
    ConvertForm,
    EntryForm,
    ExchangeRateForm,
    FamilyForm,
    PriceBookForm,
    PriceCheckForm,
    ProductForm,
    RuleForm,
    TaxRateForm,
)
from .models import ProductKind, RuleKind
from .types import LineRequest

PAGE = 100


def _page(request: HttpRequest, template: str, context: dict[str, Any],
          status: int = 200) -> HttpResponse:
    context.setdefault("nav_section", "pricing")
    context.setdefault("can_edit", access.can_edit(request.user))
    return render(request, template, context, status=status)


def _found(read: Callable[[], Any]) -> Any:
    try:
        return read()
    except NotFound as exc:
        raise Http404(str(exc)) from exc


def _apply_errors(form: Form, exc: ValidationError) -> None:
    """Put a service's errors on the form's fields (or on the form when no field fits)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None,
                       errors if field in form.fields else [f"{field}: {e}" for e in errors])


def _write(request: HttpRequest, form: Form, action: Callable[[], Any]) -> Any:
    """Run a service; its refusal becomes a form error. None when it did not happen."""
    try:
        return action()
    except ValidationError as exc:
        _apply_errors(form, exc)
    except PermissionDenied as exc:
        form.add_error(None, str(exc))
    return None


def _require_edit(request: HttpRequest) -> None:
    if not access.can_edit(request.user):
        raise PermissionDenied("Only an admin may change the catalogue and its prices.")


# --- catalogue ------------------------------------------------------------------------------


@login_required
def product_list(request):
    family_id = request.GET.get("family") or None
    active = {"yes": True, "no": False}.get(request.GET.get("active", ""))
    try:
        family = int(family_id) if family_id else None
    except ValueError:
        family = None
    products = selectors.products(request.user, family_id=family, active=active,
                                  q=request.GET.get("q", "")[:100],
                                  kind=request.GET.get("kind", "") if request.GET.get(
                                      "kind") in ProductKind.values else "")
    rows = list(products.order_by("sku")[:PAGE + 1])
    return _page(request, "pricing/product_list.html", {
        "products": rows[:PAGE], "more": len(rows) > PAGE,
        "families": selectors.families(request.user), "kinds": ProductKind.choices,
        "filters": {"q": request.GET.get("q", ""), "family": family,
                    "active": request.GET.get("active", ""),
                    "kind": request.GET.get("kind", "")},
    })


@login_required
def product_create(request):
    _require_edit(request)
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        product = _write(request, form, lambda: services.create_product(
            by=request.user, **form.cleaned_data))
        if product is not None:
            messages.success(request, f"{product} added to the catalogue.")
            return redirect("web:pricing:product", product.pk)
    return _page(request, "pricing/form.html", {
        "form": form, "title": "New product", "back": ("web:pricing:products", None)},
        status=422 if form.errors else 200)


@login_required
def product_detail(request, pk: int):
    product = _found(lambda: selectors.get_product(request.user, pk))
    components = selectors.bundle_components(product)
    return _page(request, "pricing/product_detail.html", {
        "product": product, "components": components,
        "prices": selectors.product_prices(request.user, product),
        "rules": selectors.rules(request.user, product_id=product.pk)[:50],
        "history": history_for(product)[:20],
        "components_form": ComponentsForm(initial={"components": "\n".join(
            f"{c.component.sku} {c.quantity.normalize():f}" for c in components)})
        if product.kind == ProductKind.BUNDLE and access.can_edit(request.user) else None,
    })


@login_required
def product_edit(request, pk: int):
    _require_edit(request)
    product = _found(lambda: selectors.get_product(request.user, pk))
    form = ProductForm(request.POST or None, instance=selectors.get_product(request.user, pk))
    if request.method == "POST" and form.is_valid():
        done = _write(request, form, lambda: services.update_product(
            product, by=request.user, version=posted_version(request.POST),
            **form.cleaned_data))
        if done is not None:
            messages.success(request, f"{done} saved.")
            return redirect("web:pricing:product", product.pk)
    return _page(request, "pricing/form.html", {
        "form": form, "title": f"Edit {product}", "back": ("web:pricing:product", product.pk),
        "version_of": product},
        status=422 if form.errors else 200)


@login_required
@require_POST
def product_components(request, pk: int):
    _require_edit(request)
    product = _found(lambda: selectors.get_product(request.user, pk))
    form = ComponentsForm(request.POST)
    if form.is_valid():
        try:
            parts = [(selectors.get_product_by_sku(request.user, sku), qty)
                     for sku, qty in form.cleaned_data["components"]]
            services.set_bundle_components(product, parts, by=request.user,
                                           version=posted_version(request.POST))
            messages.success(request, "Components saved.")
        except (ValidationError, NotFound) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.error(request, " ".join(str(e) for e in form.errors["components"]))
    return redirect("web:pricing:product", product.pk)


@login_required
def families(request):
    form = FamilyForm(request.POST or None) if access.can_edit(request.user) else None
    if request.method == "POST":
        _require_edit(request)
        if form is not None and form.is_valid():
            family = _write(request, form, lambda: services.create_family(
                by=request.user, **form.cleaned_data))
            if family is not None:
                messages.success(request, f"Family {family} added.")
                return redirect("web:pricing:families")
    return _page(request, "pricing/families.html", {
        "families": selectors.families(request.user), "form": form},
        status=422 if form is not None and form.errors else 200)


@login_required
def family_edit(request, pk: int):
    _require_edit(request)
    family = _found(lambda: selectors.get_family(request.user, pk))
    form = FamilyForm(request.POST or None, instance=selectors.get_family(request.user, pk))
    if request.method == "POST" and form.is_valid():
        if _write(request, form, lambda: services.update_family(
                family, by=request.user, version=posted_version(request.POST),
                **form.cleaned_data)) is not None:
            messages.success(request, "Family saved.")
            return redirect("web:pricing:families")
    return _page(request, "pricing/form.html", {
        "form": form, "title": f"Edit family {family}", "back": ("web:pricing:families", None),
        "version_of": family},
        status=422 if form.errors else 200)


# --- price books --------------------------------------------------------------------------------


@login_required
def books(request):
    form = PriceBookForm(request.POST or None) if access.can_edit(request.user) else None
    if request.method == "POST":
        _require_edit(request)
        if form is not None and form.is_valid():
            book = _write(request, form, lambda: services.create_price_book(
                by=request.user, **form.cleaned_data))
            if book is not None:
                messages.success(request, f"Price book {book} added.")
                return redirect("web:pricing:book", book.pk)
    return _page(request, "pricing/books.html", {
        "books": selectors.price_books(request.user), "form": form},
        status=422 if form is not None and form.errors else 200)


@login_required
def book_detail(request, pk: int):
    book = _found(lambda: selectors.get_price_book(request.user, pk))
    form = EntryForm(request.POST or None) if access.can_edit(request.user) else None
    if request.method == "POST":
        _require_edit(request)
        if form is not None and form.is_valid():
            data = form.cleaned_data
            done = _write(request, form, lambda: services.set_entry(
                book, _found(lambda: selectors.get_product_by_sku(request.user, data["sku"])),
                by=request.user, list_price=data["list_price"],
                floor_price=data["floor_price"]))
            if done is not None:
                messages.success(request, f"{data['sku']}: list price set.")
                return redirect("web:pricing:book", book.pk)
    q = request.GET.get("q", "")[:100]
    entries = selectors.entries(request.user, book)
    if q:
        entries = entries.filter(product__sku__istartswith=q)
    rows = list(entries[:PAGE * 5 + 1])
    return _page(request, "pricing/book_detail.html", {
        "book": book, "entries": rows[:PAGE * 5], "more": len(rows) > PAGE * 5, "q": q,
        "form": form, "history": history_for(book)[:10]},
        status=422 if form is not None and form.errors else 200)


@login_required
def book_edit(request, pk: int):
    _require_edit(request)
    book = _found(lambda: selectors.get_price_book(request.user, pk))
    form = PriceBookForm(request.POST or None,
                         instance=selectors.get_price_book(request.user, pk))
    if request.method == "POST" and form.is_valid():
        if _write(request, form, lambda: services.update_price_book(
                book, by=request.user, version=posted_version(request.POST),
                **form.cleaned_data)) is not None:
            messages.success(request, "Price book saved.")
            return redirect("web:pricing:book", book.pk)
    return _page(request, "pricing/form.html", {
        "form": form, "title": f"Edit {book}", "back": ("web:pricing:book", book.pk),
        "version_of": book},
        status=422 if form.errors else 200)


@login_required
@require_POST
def entry_delete(request, pk: int, product_id: int):
    _require_edit(request)
    book = _found(lambda: selectors.get_price_book(request.user, pk))
    entry = selectors.entries(request.user, book).filter(product_id=product_id).first()
    if entry is None:
        raise Http404("No such entry.")
    services.delete_entry(entry, by=request.user, version=posted_version(request.POST))
    messages.success(request, f"{entry.product.sku} removed from {book}.")
    return redirect("web:pricing:book", book.pk)


# --- rules ---------------------------------------------------------------------------------------


def _rule_values(request, form: RuleForm) -> tuple[dict[str, Any], Any]:
    data = dict(form.cleaned_data)
    tiers = data.pop("tiers")
    account_id = data.pop("account_id")
    data["account"] = (_found(lambda: get_visible(Account, request.user, account_id))
                       if account_id else None)
    data["currency"] = data.get("currency") or ""
    return data, tiers


@login_required
def rules(request):
    kind = request.GET.get("kind", "")
    listed = selectors.rules(request.user, kind=kind if kind in RuleKind.values else "")
    rows = list(listed.order_by("kind", "name", "id")[:PAGE * 2 + 1])
    form = RuleForm(request.POST or None) if access.can_edit(request.user) else None
    if request.method == "POST":
        _require_edit(request)
        if form is not None and form.is_valid():
            data, tiers = _rule_values(request, form)
            rule = _write(request, form, lambda: services.create_rule(
                by=request.user, tiers=tiers, **data))
            if rule is not None:
                messages.success(request, f"Rule {rule} added.")
                return redirect("web:pricing:rules")
    return _page(request, "pricing/rules.html", {
        "rules": rows[:PAGE * 2], "more": len(rows) > PAGE * 2, "kinds": RuleKind.choices,
        "kind": kind, "form": form},
        status=422 if form is not None and form.errors else 200)


@login_required
def rule_edit(request, pk: int):
    rule = _found(lambda: selectors.get_rule(request.user, pk))
    if request.method == "POST" and "delete" in request.POST:
        _require_edit(request)
        services.delete_rule(rule, by=request.user, version=posted_version(request.POST))
        messages.success(request, f"Rule {rule} deleted.")
        return redirect("web:pricing:rules")
    form = RuleForm(request.POST or None, instance=selectors.get_rule(request.user, pk))
    if request.method == "POST":
        _require_edit(request)
        if form.is_valid():
            data, tiers = _rule_values(request, form)
            data.pop("kind", None)
            if _write(request, form, lambda: services.update_rule(
                    rule, by=request.user, version=posted_version(request.POST),
                    tiers=tiers or [], **data)) is not None:
                messages.success(request, "Rule saved.")
                return redirect("web:pricing:rules")
    return _page(request, "pricing/rule_form.html", {
        "form": form, "rule": rule, "history": history_for(rule)[:20]},
        status=422 if form.errors else 200)


# --- tax and exchange rates ---------------------------------------------------------------------


@login_required
def tax_rates(request):
    form = TaxRateForm(request.POST or None) if access.can_edit(request.user) else None
    if request.method == "POST":
        _require_edit(request)
        if "delete" in request.POST:
            tax = _found(lambda: selectors.get_tax_rate(request.user, request.POST["delete"]))
            services.delete_tax_rate(tax, by=request.user, version=posted_version(request.POST))
            messages.success(request, f"Tax rate {tax} deleted.")
            return redirect("web:pricing:tax_rates")
        if form is not None and form.is_valid():
            tax = _write(request, form, lambda: services.create_tax_rate(
                by=request.user, **form.cleaned_data))
            if tax is not None:
                messages.success(request, f"Tax rate {tax} added.")
                return redirect("web:pricing:tax_rates")
    return _page(request, "pricing/tax_rates.html", {
        "rates": selectors.tax_rates(request.user), "form": form},
        status=422 if form is not None and form.errors else 200)


@login_required
def exchange_rates(request):
    form = ExchangeRateForm(request.POST or None) if access.can_edit(request.user) else None
    if request.method == "POST":
        _require_edit(request)
        if "delete" in request.POST:
            rate = _found(lambda: selectors.get_exchange_rate(request.user,
                                                              request.POST["delete"]))
            services.delete_exchange_rate(rate, by=request.user,
                                          version=posted_version(request.POST))
            messages.success(request, f"Rate {rate} deleted.")
            return redirect("web:pricing:exchange_rates")
        if form is not None and form.is_valid():
            rate = _write(request, form, lambda: services.create_exchange_rate(
                by=request.user, **form.cleaned_data))
            if rate is not None:
                messages.success(request, f"Rate {rate} recorded.")
                return redirect("web:pricing:exchange_rates")
    convert = ConvertForm(request.GET if "amount" in request.GET else None)
    converted = None
    if convert.is_bound and convert.is_valid():
        data = convert.cleaned_data
        day = data["on"] or company_today()
        try:
            converted = (services.convert_amount(data["amount"], data["source"],
                                                 data["target"], day), data["target"], day)
        except ValidationError as exc:
            _apply_errors(convert, exc)
    return _page(request, "pricing/exchange_rates.html", {
        "rates": selectors.exchange_rates(request.user).order_by("-date", "base",
                                                                 "quote")[:PAGE * 2],
        "form": form, "convert": convert, "converted": converted},
        status=422 if form is not None and form.errors else 200)


# --- price check -----------------------------------------------------------------------------


@login_required
def price_check(request):
    form = PriceCheckForm(request.GET if "lines" in request.GET else None)
    quote = account = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            account = get_visible(Account, request.user, data["account_id"])
        except NotFound:
            form.add_error("account_id", "No account with this id that you may see.")
        else:
            quote = _price(request, form, account, data)
    return _page(request, "pricing/price_check.html", {
        "form": form, "quote": quote, "account": account},
        status=422 if form.errors else 200)


def _price(request, form: PriceCheckForm, account: Account, data: dict[str, Any]):
    skus = {sku for sku, _, _ in data["lines"]}
    ids = dict(selectors.products(request.user).filter(sku__in=skus).values_list("sku", "id"))
    unknown = sorted(skus - set(ids))
    if unknown:
        form.add_error("lines", f"Unknown SKU: {', '.join(unknown)}.")
        return None
    lines = [LineRequest(ids[sku], qty, discount) for sku, qty, discount in data["lines"]]
    region = data["tax_region"].strip() or None
    try:
        return services.price_lines(
            account=account, currency=data["currency"] or account.currency,
            on_date=data["on_date"], lines=lines, price_book=data["price_book"],
            tax_region=region, by=request.user)
    except ValidationError as exc:
        _apply_errors(form, _name_lines(exc, data["lines"]))
    return None


def _name_lines(exc: ValidationError, lines: list[tuple[str, Decimal, Decimal]]
                ) -> ValidationError:
    """“lines[2].quantity” becomes “Line 3 (RT-100), quantity” on the page."""
    if not hasattr(exc, "error_dict"):
        return exc
    named: dict[str, list[str]] = {}
    for key, errors in exc.message_dict.items():
        if key.startswith("lines["):
            index = int(key[6:key.index("]")])
            field = key.partition(".")[2].replace("_", " ")
            sku = lines[index][0] if index < len(lines) else "?"
            named.setdefault("lines", []).extend(
                f"Line {index + 1} ({sku}), {field}: {e}" for e in errors)
        else:
            named.setdefault(key, []).extend(errors)
    return ValidationError(named)
