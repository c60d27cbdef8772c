"""`salesplan health`: customer-health scores from the command line.

    salesplan health compute                 score every account (set-based, with progress)
    salesplan health compute --account ID    score one account
    salesplan health show ID [--as USERNAME] one account's score and reasons
"""

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from salesplan.core.errors import NotFound
from salesplan.customers.models import Account
from salesplan.health import selectors, services
from salesplan.org.models import Role, User


class Command(BaseCommand):
    help = "Customer health: compute scores for every account or one; show an account's."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        compute = sub.add_parser("compute", help="Score every account (or --account ID).")
        compute.add_argument("--account", type=int)
        show = sub.add_parser("show", help="One account's score with its reasons.")
        show.add_argument("account", type=int)
        show.add_argument("--as", dest="username", help="Read as this user (default: an admin).")

    def handle(self, *args, **options) -> None:
        if options["action"] == "compute":
            return self._compute(options.get("account"))
        user = _user(options.get("username"))
        try:
            account, row = selectors.account_health(user, options["account"])
        except NotFound as exc:
            raise CommandError(str(exc)) from exc
        if row is None:
            self.stdout.write(f"{account}: no score yet (run `salesplan health compute`).")
            return
        self.stdout.write(f"{account}: {row.score} / 100 "
                          f"(computed {row.computed_at:%Y-%m-%d %H:%M})")
        for c in selectors.components(row):
            self.stdout.write(f"  {c.label:<22} {c.points:>3} / {c.max_points:<3} {c.reason}")

    def _compute(self, account_id: int | None) -> None:
        started = time.perf_counter()
        if account_id is not None:
            account = Account.objects.filter(pk=account_id).first()
            if account is None:
                raise CommandError(f"No account with id {account_id}.")
            row = services.recompute_account(account, by=_user(None))
            self.stdout.write(f"{account}: {row.score} / 100.")
            return

        def progress(done: int, total: int) -> None:
            if done == total or done % 100_000 == 0:
                self.stdout.write(f"  {done:,} / {total:,} accounts")

        result = services.compute_health(progress=progress)
        self.stdout.write(f"Scored {result['accounts']:,} accounts in "
                          f"{time.perf_counter() - started:.1f} s; {result['at_risk']:,} at risk.")


def _user(username: str | None) -> User:
    if username:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {username!r}.")
        return user
    user = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk").first()
    if user is None:
        raise CommandError("No active admin to act as; pass --as USERNAME.")
    return user
