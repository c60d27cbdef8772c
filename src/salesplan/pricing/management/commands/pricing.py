"""`salesplan pricing`: the catalogue and prices from the command line, through the same
services as the pages and the API.

    salesplan pricing import-catalogue FILE.csv [--price-book NAME] [--as USERNAME]
    salesplan pricing price --account ID [--currency USD] [--date YYYY-MM-DD]
        [--price-book ID] [--tax-region US-CA] SKU:QTY[:DISCOUNT%] …
    salesplan pricing convert AMOUNT FROM TO [--date YYYY-MM-DD]
"""

from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from salesplan.core.clock import company_today
from salesplan.core.errors import NotFound
from salesplan.core.money import Money
from salesplan.core.selectors import get_visible
from salesplan.customers.models import Account
from salesplan.org.models import Company, Role, User
from salesplan.pricing import selectors, services
from salesplan.pricing.catalogue_import import import_catalogue
from salesplan.pricing.models import PriceBook, Product
from salesplan.pricing.types import LineRequest, PricedQuote


class Command(BaseCommand):
    help = "Pricing: import the catalogue from CSV, price lines for an account, convert."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import-catalogue", help="Products and list prices from a CSV "
                             "file (all rows or none).")
        imp.add_argument("file", type=Path)
        imp.add_argument("--price-book", help="Book name (default: the standard book of the "
                                              "company currency).")
        price = sub.add_parser("price", help="Price lines for an account, with the reasons.")
        price.add_argument("lines", nargs="+", metavar="SKU:QTY[:DISCOUNT]")
        price.add_argument("--account", type=int, required=True)
        price.add_argument("--currency", help="Default: the account's currency.")
        price.add_argument("--date", type=date.fromisoformat)
        price.add_argument("--price-book", type=int)
        price.add_argument("--tax-region", help="US-CA, DE…; '' for no tax.")
        convert = sub.add_parser("convert", help="Convert an amount on a date.")
        convert.add_argument("amount")
        convert.add_argument("source", metavar="FROM")
        convert.add_argument("target", metavar="TO")
        convert.add_argument("--date", type=date.fromisoformat)
        for p in (imp, price, convert):
            p.add_argument("--as", dest="username",
                           help="Act as this user (default: the first active admin).")

    def handle(self, *args, **options) -> None:
        user = self._user(options.get("username"))
        try:
            if options["action"] == "import-catalogue":
                self._import(user, options["file"], options["price_book"])
            elif options["action"] == "price":
                self._price(user, options)
            else:
                day = options["date"] or company_today()
                amount = _decimal(options["amount"], "amount")
                converted = services.convert_amount(amount, options["source"],
                                                    options["target"], day)
                self.stdout.write(f"{amount} {options['source'].upper()} = "
                                  f"{Money(converted, options['target'].upper())} "
                                  f"on {day.isoformat()}")
        except ValidationError as exc:
            lines = ([f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()]
                     if hasattr(exc, "error_dict") else exc.messages)
            raise CommandError("\n".join(lines)) from exc
        except (PermissionDenied, NotFound) as exc:
            raise CommandError(str(exc)) from exc

    def _user(self, username: str | None) -> User:
        users = User.objects.filter(is_active=True)
        user = (users.filter(username=username).first() if username
                else users.filter(role=Role.ADMIN).order_by("id").first())
        if user is None:
            raise CommandError(f"No active user {username!r}." if username
                               else "No active admin; pass --as USERNAME.")
        return user

    def _import(self, user: User, path: Path, book_name: str | None) -> None:
        try:
            content = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        if book_name:
            book = PriceBook.objects.filter(name=book_name).first()
            if book is None:
                raise CommandError(f"No price book named {book_name!r}.")
        else:
            currency = Company.current().default_currency
            book = PriceBook.objects.filter(currency=currency, is_standard=True).first()
            if book is None:
                raise CommandError(f"There is no standard {currency} price book; create one "
                                   "or pass --price-book.")
        result = import_catalogue(content, by=user, price_book=book)
        families = (f"; new families: {', '.join(result.families_created)}"
                    if result.families_created else "")
        self.stdout.write(f"Imported {result.created} new and {result.updated} updated "
                          f"products, list prices in “{result.price_book}”{families}.")

    def _price(self, user: User, options) -> None:
        account = get_visible(Account, user, options["account"])
        requests = []
        errors: dict[str, list[str]] = {}
        skus = {}
        for i, text in enumerate(options["lines"]):
            parts = text.split(":")
            if len(parts) not in (2, 3):
                errors[f"lines[{i}]"] = [f"“{text}”: write SKU:QUANTITY or SKU:QUANTITY:DISCOUNT."]
                continue
            skus[i] = parts[0]
            try:
                requests.append(LineRequest(
                    product_id=0, quantity=_decimal(parts[1], f"lines[{i}].quantity"),
                    discount_pct=_decimal(parts[2], f"lines[{i}].discount_pct")
                    if len(parts) == 3 else Decimal(0)))
            except CommandError as exc:
                errors[f"lines[{i}]"] = [str(exc)]
        if errors:
            raise ValidationError(errors)
        ids = dict(Product.objects.filter(sku__in=skus.values()).values_list("sku", "id"))
        missing = {f"lines[{i}].sku": [f"Unknown SKU {sku}."] for i, sku in skus.items()
                   if sku not in ids}
        if missing:
            raise ValidationError(missing)
        lines = [LineRequest(ids[skus[i]], r.quantity, r.discount_pct)
                 for i, r in enumerate(requests)]
        book = (selectors.get_price_book(user, options["price_book"])
                if options["price_book"] else None)
        quote = services.price_lines(
            account=account, currency=options["currency"] or account.currency,
            on_date=options["date"] or company_today(), lines=lines, price_book=book,
            tax_region=options["tax_region"], by=user)
        self._print(quote)

    def _print(self, quote: PricedQuote) -> None:
        c = quote.currency
        for line in quote.lines:
            flags = " ".join(f for f, on in (("BELOW FLOOR", line.below_floor),
                                             ("LOW MARGIN", line.below_min_margin)) if on)
            self.stdout.write(
                f"{line.index + 1:>3}. {line.sku:<14} {line.quantity:>10} {line.unit:<8} "
                f"list {line.list_unit_price:>12,.4f}  net {line.net_unit_price:>12,.4f}  "
                f"-{line.discount_pct}%  {line.line_net:>14,.2f} {c}  margin "
                f"{'-' if line.margin_pct is None else str(line.margin_pct) + '%'} {flags}")
            for reason in line.explanation:
                self.stdout.write(f"       {reason}")
        self.stdout.write(f"Subtotal {Money(quote.subtotal, c)}  discount "
                          f"{Money(quote.discount_total, c)}  tax {Money(quote.tax_total, c)}"
                          f"  total {Money(quote.total, c)}")


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise CommandError(f"{what}: “{text}” is not a number.") from exc
    if not value.is_finite():
        raise CommandError(f"{what}: “{text}” is not a number.")
    return value
