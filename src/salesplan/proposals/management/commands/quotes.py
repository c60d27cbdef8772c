"""`salesplan quotes`: quotes from the command line, through the same services as the pages
and the API.

    salesplan quotes list [--status S] [--opportunity ID] [--as USERNAME]
    salesplan quotes show ID [--version N] [--as USERNAME]     lines, totals, approvals
    salesplan quotes pdf ID OUTPUT.pdf [--version N] [--as USERNAME]
    salesplan quotes send ID [--as USERNAME]
    salesplan quotes expire [--today YYYY-MM-DD]               sent quotes past validity
"""

from datetime import date
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from salesplan.core.errors import NotFound
from salesplan.org.models import Role, User
from salesplan.proposals import access, selectors, services
from salesplan.proposals.models import Quote, QuoteStatus, QuoteVersion
from salesplan.proposals.pdf import render_pdf


class Command(BaseCommand):
    help = "Quotes: list, show, write the proposal PDF, mark sent, expire past validity."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="Quotes you may see, newest first.")
        listing.add_argument("--status", choices=QuoteStatus.values)
        listing.add_argument("--opportunity", type=int)
        show = sub.add_parser("show", help="A quote's lines, totals and approvals.")
        pdf = sub.add_parser("pdf", help="Write the proposal PDF to a file.")
        send = sub.add_parser("send", help="Mark the quote sent (once approved).")
        for p in (show, pdf, send):
            p.add_argument("quote", type=int)
        pdf.add_argument("output", type=Path)
        for p in (show, pdf):
            p.add_argument("--version", type=int, help="A version number (default: current).")
        expire = sub.add_parser("expire", help="Mark expired every sent quote past validity.")
        expire.add_argument("--today", type=date.fromisoformat)
        for p in (listing, show, pdf, send, expire):
            p.add_argument("--as", dest="username",
                           help="Act as this user (default: the first active admin).")

    def handle(self, *args, **options) -> None:
        user = self._user(options.get("username"))
        action = options["action"]
        try:
            if action == "list":
                return self._list(user, options.get("status"), options.get("opportunity"))
            if action == "expire":
                numbers = services.expire_quotes(today=options.get("today"), by=user)
                self.stdout.write(f"{len(numbers)} quote(s) expired"
                                  + (f": {', '.join(numbers)}." if numbers else "."))
                return None
            quote = access.get_quote(user, options["quote"])
            if action == "send":
                services.send_quote(quote, by=user)
                self.stdout.write(f"{quote.number}: {quote.get_status_display()}.")
            elif action == "show":
                self._show(quote, self._version(quote, options.get("version")), user)
            else:
                version = self._version(quote, options.get("version"))
                options["output"].write_bytes(render_pdf(quote, version))
                self.stdout.write(f"Wrote {options['output']} ({quote.number} v{version.number}).")
        except (ValidationError, PermissionDenied, NotFound) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from exc
        return None

    def _user(self, username: str | None) -> User:
        users = User.objects.filter(is_active=True)
        user = (users.filter(username=username).first() if username
                else users.filter(role=Role.ADMIN).order_by("id").first())
        if user is None:
            raise CommandError(f"No active user {username!r}." if username
                               else "No active admin; pass --as USERNAME.")
        return user

    def _version(self, quote: Quote, number: int | None) -> QuoteVersion:
        version = quote.versions.filter(number=number or quote.current_number).first()
        if version is None:
            raise CommandError(f"{quote.number} has no version {number}.")
        return version

    def _list(self, user: User, status: str | None, opportunity: int | None) -> None:
        for q in selectors.quote_list(user, status=status, opportunity_id=opportunity)[:500]:
            self.stdout.write(f"{q.pk:>6}  {q.number}  v{q.current_number:<2} "
                              f"{q.get_status_display():<11}  {q.currency} {q.total:>14,.2f}  "
                              f"{q.opportunity.account.name} · {q.title}")

    def _show(self, quote: Quote, version: QuoteVersion, user: User) -> None:
        write = self.stdout.write
        write(f"{quote.number} {quote.title} — {quote.get_status_display()}, version "
              f"{version.number} of {quote.current_number}; valid until {version.valid_until}")
        write(f"{quote.opportunity.account.name} · {quote.opportunity.name}")
        for line in version.lines.order_by("position"):
            margin = "" if line.margin_pct is None else f"  margin {line.margin_pct}%"
            write(f"{line.position:>4}  {line.sku:<16} {line.quantity.normalize():>10} × "
                  f"{line.list_unit_price:>12,.4f}  −{line.discount_pct}% = "
                  f"{line.line_net:>14,.2f}{margin}")
        c = version.currency
        write(f"Subtotal {c} {version.subtotal:,.2f}  tax {c} {version.tax_total:,.2f}  "
              f"total {c} {version.total:,.2f}")
        for a in version.approvals.order_by("step", "id"):
            reasons = "; ".join(r["rule"] for r in a.reasons)
            write(f"Approval step {a.step} ({a.get_approver_display()}): "
                  f"{a.get_status_display()} — {reasons}")
