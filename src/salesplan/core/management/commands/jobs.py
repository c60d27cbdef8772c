"""`salesplan jobs recover [--older-than SECONDS]`: enqueue again jobs a broker lost."""

from django.core.management.base import BaseCommand

from salesplan.core.jobs import recover_stalled_jobs


class Command(BaseCommand):
    help = ("Background jobs. `recover` enqueues again every job still waiting after "
            "--older-than seconds (default 600): a broker that restarts without keeping "
            "its queue loses their messages. A job never runs twice.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        recover = sub.add_parser("recover", help="Enqueue again jobs waiting too long.")
        recover.add_argument("--older-than", type=int, default=600, metavar="SECONDS")

    def handle(self, *args, action: str, **options):
        recovered = recover_stalled_jobs(older_than_seconds=options["older_than"])
        self.stdout.write(f"Enqueued again {len(recovered):,} waiting "
                          f"job{'s' if len(recovered) != 1 else ''}"
                          + (f": {', '.join(f'#{pk}' for pk in recovered)}." if recovered
                             else "."))
