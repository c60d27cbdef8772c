"""`salesplan comp`: incentive compensation from the command line, through the services.

    salesplan comp calculate --period YYYY-MM-DD     calculate an open period's statements
    salesplan comp close --period YYYY-MM-DD         calculate once more and lock it
    salesplan comp statement --period D --rep USER   one rep's statement, line by line
    salesplan comp export --period YYYY-MM-DD        the closed period's payroll CSV
--period names the period by any day in it; --as USERNAME acts as that user (default:
the first active admin).
"""

from datetime import date
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from salesplan.compensation import payroll, selectors, services
from salesplan.compensation.models import CompPeriod
from salesplan.core.errors import NotFound
from salesplan.org.models import Role, User


class Command(BaseCommand):
    help = "Incentive compensation: calculate, close, show a statement, export payroll."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in (("calculate", "Calculate an open period's statements."),
                           ("close", "Calculate once more and lock the period."),
                           ("statement", "One rep's statement, line by line."),
                           ("export", "The closed period's payroll: CSV on standard "
                                      "output, or a .csv or .xlsx file (--output).")):
            command = sub.add_parser(name, help=text)
            command.add_argument("--period", type=date.fromisoformat, required=True,
                                 help="Any day in the period (YYYY-MM-DD).")
            command.add_argument("--as", dest="username",
                                 help="Act as this user (default: the first active admin).")
            if name == "statement":
                command.add_argument("--rep", required=True, help="The rep's username.")
            if name == "export":
                command.add_argument("--output", type=Path,
                                     help="Write to this file; its ending (.csv or .xlsx) "
                                          "chooses the format.")

    def handle(self, *args, **options) -> None:
        user = self._user(options.get("username"))
        day = options["period"]
        period = CompPeriod.objects.filter(starts__lte=day, ends__gte=day).first()
        if period is None:
            raise CommandError(f"No pay period holds {day}.")
        try:
            getattr(self, f"_{options['action']}")(user, period, options)
        except (ValidationError, PermissionDenied, NotFound) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from exc

    def _user(self, username: str | None) -> User:
        users = User.objects.filter(is_active=True)
        user = (users.filter(username=username).first() if username
                else users.filter(role=Role.ADMIN).order_by("id").first())
        if user is None:
            raise CommandError(f"No active user {username!r}." if username
                               else "No active admin; pass --as USERNAME.")
        return user

    def _calculate(self, user, period, options) -> None:
        job = services.start_calculation(period, by=user)
        job.refresh_from_db()
        self.stdout.write(job.message or f"Job {job.pk}: {job.status} (a worker runs it).")

    def _close(self, user, period, options) -> None:
        services.close_period(period, by=user, expected_version=period.version)
        self.stdout.write(f"{period} is closed; its statements are locked.")

    def _statement(self, user, period, options) -> None:
        rep = User.objects.filter(username=options["rep"]).first()
        if rep is None:
            raise CommandError(f"No user {options['rep']!r}.")
        found = selectors.statements(user).filter(period=period, rep=rep).first()
        if found is None:
            raise CommandError(f"No statement of {rep.username} in {period}.")
        self.stdout.write(f"{rep} · {period} ({found.currency})")
        for line in found.lines.all():
            self.stdout.write(f"{line.position:>3}  {line.label:<40} {line.amount:>14}  "
                              f"{line.rule}")
        self.stdout.write(f"Earned {found.earned}, paid {found.paid}, "
                          f"draw balance {found.draw_balance}.")

    def _export(self, user, period, options) -> None:
        target: Path | None = options.get("output")
        if target is None:
            self.stdout.write(payroll.payroll_csv(user, period), ending="")
            return
        if target.suffix.lower() == ".xlsx":
            target.write_bytes(payroll.payroll_xlsx(user, period))
        elif target.suffix.lower() == ".csv":
            target.write_text(payroll.payroll_csv(user, period), encoding="utf-8")
        else:
            raise CommandError("--output ends in .csv or .xlsx.")
        self.stdout.write(f"Wrote {target}.")
