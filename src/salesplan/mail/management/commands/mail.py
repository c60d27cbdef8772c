"""`salesplan mail`: read mailboxes, list templates and mailboxes, add a mailbox, list
unknown senders, send a template from a record.

    salesplan mail fetch [--mailbox ID ...]
    salesplan mail templates
    salesplan mail mailboxes
    salesplan mail add-mailbox NAME --host H [--port 993] [--no-ssl] --username U
        --password P [--folder INBOX] [--owner USERNAME]   (no owner: the shared BCC box)
    salesplan mail triage
    salesplan mail send KIND ID --template NAME [--to ADDRESS] --as USERNAME
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from salesplan.core.errors import NotFound
from salesplan.mail import services
from salesplan.mail.inbound import fetch_all
from salesplan.mail.models import EmailTemplate, Mailbox, Triage
from salesplan.mail.records import KINDS, default_recipient, get_record
from salesplan.org.models import Role, User


class Command(BaseCommand):
    help = "Email: read mailboxes, templates, mailboxes, unknown senders, send."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        fetch = sub.add_parser("fetch", help="Read the new messages of every active mailbox.")
        fetch.add_argument("--mailbox", type=int, action="append", default=[])
        sub.add_parser("templates", help="The email templates.")
        sub.add_parser("mailboxes", help="The mailboxes read.")
        sub.add_parser("triage", help="Messages from unknown senders.")
        add = sub.add_parser("add-mailbox", help="A mailbox to read over IMAP.")
        add.add_argument("name")
        add.add_argument("--host", required=True)
        add.add_argument("--port", type=int, default=993)
        add.add_argument("--no-ssl", action="store_true")
        add.add_argument("--username", required=True)
        add.add_argument("--password", required=True)
        add.add_argument("--folder", default="INBOX")
        add.add_argument("--owner", help="Username whose mailbox it is (none: shared BCC).")
        send = sub.add_parser("send", help="Send a template from a record.")
        send.add_argument("kind", choices=sorted(KINDS))
        send.add_argument("id", type=int)
        send.add_argument("--template", required=True)
        send.add_argument("--to", default="")
        send.add_argument("--as", dest="username", required=True)

    def handle(self, *args, **options) -> None:
        try:
            getattr(self, "_" + options["action"].replace("-", "_"))(options)
        except ValidationError as exc:
            raise CommandError("; ".join(
                f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        except (PermissionDenied, NotFound) as exc:
            raise CommandError(str(exc)) from exc

    def _fetch(self, options) -> None:
        result = fetch_all(mailbox_ids=options["mailbox"] or None)
        self.stdout.write(str(result))
        for error in result.errors:
            self.stderr.write(error)
        if result.errors:
            raise CommandError(f"{len(result.errors)} mailbox(es) could not be read.")

    def _templates(self, options) -> None:
        for t in EmailTemplate.objects.order_by("name"):
            state = "" if t.active else " (retired)"
            self.stdout.write(f"{t.pk}\t{t.name}\tv{t.version}{state}\t{t.subject}")

    def _mailboxes(self, options) -> None:
        for m in Mailbox.objects.select_related("owner").order_by("id"):
            whose = m.owner.username if m.owner else "shared"
            self.stdout.write(f"{m.pk}\t{m.name}\t{whose}\t{m.username}@{m.host}:{m.port}"
                              f"\tlast UID {m.last_uid}\t{m.last_error}")

    def _triage(self, options) -> None:
        for m in services.EmailMessage.objects.filter(triage=Triage.WAITING).order_by("-at"):
            self.stdout.write(f"{m.pk}\t{m.at:%Y-%m-%d %H:%M}\t{m.from_address}\t{m.subject}")

    def _add_mailbox(self, options) -> None:
        admin = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id").first()
        if admin is None:
            raise CommandError("No active admin to act as.")
        owner = None
        if options["owner"]:
            owner = User.objects.filter(username=options["owner"]).first()
            if owner is None:
                raise CommandError(f"No user called {options['owner']}.")
        mailbox = services.create_mailbox(by=admin, data={
            "name": options["name"], "host": options["host"], "port": options["port"],
            "use_ssl": not options["no_ssl"], "username": options["username"],
            "password": options["password"], "folder": options["folder"], "owner": owner})
        self.stdout.write(f"Mailbox {mailbox.pk} added.")

    def _send(self, options) -> None:
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user called {options['username']}.")
        template = EmailTemplate.objects.filter(name=options["template"]).first()
        if template is None:
            raise CommandError(f"No template called {options['template']}.")
        record = get_record(options["kind"], options["id"], user)
        sent = services.send_email(record, by=user, template=template,
                                   to=options["to"] or default_recipient(record))
        self.stdout.write(f"Sent {sent.message_id} to {sent.to_addresses}.")
