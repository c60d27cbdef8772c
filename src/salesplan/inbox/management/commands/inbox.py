"""`salesplan inbox`: the daily digest of inbox items.

    salesplan inbox digest            (run it once a day from cron)
    salesplan inbox digest --queue    (enqueue the task for the worker instead)
"""

from django.core.management.base import BaseCommand, CommandParser

from salesplan.inbox.services import send_digests
from salesplan.inbox.tasks import send_inbox_digests


class Command(BaseCommand):
    help = "Send the daily digest emails of the work inbox."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        digest = sub.add_parser("digest", help="Email each user who chose a daily digest "
                                               "the items not sent yet, grouped by kind.")
        digest.add_argument("--queue", action="store_true",
                            help="Enqueue the task for the worker instead of sending here.")

    def handle(self, *args, **options) -> None:
        if options["queue"]:
            result = send_inbox_digests.enqueue()
            self.stdout.write(f"Queued the digest task ({result.id}).")
            return
        sent = send_digests()
        self.stdout.write(f"Sent {sent} digest email{'s' if sent != 1 else ''}.")
