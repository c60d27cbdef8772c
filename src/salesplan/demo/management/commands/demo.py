"""`salesplan demo [--seed N] [--accounts N] [--reset]`: build the demo company."""

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from salesplan.demo.build import DemoRefused, build_demo, describe


class Command(BaseCommand):
    help = ("Build a realistic demo company (Northwind Industrial Supply): teams, reps, "
            "accounts at real US ZIP codes, two years of deals and activities. "
            "The same seed gives the same company on the same day.")

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument("--accounts", type=int, default=3_000,
                            help="Number of accounts (default 3,000; 1,000,000 for load tests).")
        parser.add_argument("--reset", action="store_true",
                            help="Wipe the CRM data and the organisation first.")

    def handle(self, *args, seed, accounts, reset, **options):
        if accounts < 1:
            raise CommandError("--accounts must be at least 1.")
        call_command("createcachetable", verbosity=0)  # the team cache lives there
        try:
            result = build_demo(seed=seed, accounts=accounts, reset=reset,
                                log=lambda line: self.stdout.write(line))
        except DemoRefused as exc:
            raise CommandError(str(exc)) from exc
        for line in describe(result):
            self.stdout.write(line)
