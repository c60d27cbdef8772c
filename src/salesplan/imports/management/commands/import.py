"""salesplan import RESOURCE FILE --as USERNAME [--map col=field ...]
[--on-duplicate skip|update|create] [--dry-run] [--pipeline NAME]"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from salesplan.imports.columns import RESOURCE_ALIASES, RESOURCES
from salesplan.imports.importer import DUPLICATE_POLICIES, describe
from salesplan.imports.readers import UnreadableFile
from salesplan.imports.services import import_path, summary
from salesplan.org.models import User
from salesplan.pipeline.models import Pipeline


class Command(BaseCommand):
    help = ("Import accounts, contacts, leads or opportunities from a CSV or XLSX file as a "
            "user: every row is checked first and nothing is written unless all are good.")

    def add_arguments(self, parser):
        parser.add_argument("resource", help="accounts, contacts, leads or opportunities")
        parser.add_argument("file")
        parser.add_argument("--as", dest="username", required=True,
                            help="import as this user (their permissions apply)")
        parser.add_argument("--map", action="append", default=[], metavar="COLUMN=FIELD",
                            help="fill FIELD from COLUMN (repeatable); FIELD empty to ignore")
        parser.add_argument("--on-duplicate", choices=DUPLICATE_POLICIES, default="skip")
        parser.add_argument("--dry-run", action="store_true", help="check only; write nothing")
        parser.add_argument("--skip-bad-rows", action="store_true",
                            help="write the good rows and leave the bad ones out "
                                 "(default: nothing is written while any row is bad)")
        parser.add_argument("--pipeline", help="pipeline name for opportunity stages")

    def handle(self, *args, **options):
        resource = RESOURCE_ALIASES.get(options["resource"], options["resource"])
        if resource not in RESOURCES:
            raise CommandError(f"Cannot import '{options['resource']}'; choose one of "
                               "accounts, contacts, leads, opportunities.")
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user '{options['username']}'.")
        overrides = {}
        for item in options["map"]:
            column, sep, field = item.partition("=")
            if not sep:
                raise CommandError(f"--map takes COLUMN=FIELD, not '{item}'.")
            overrides[column.strip()] = field.strip()
        pipeline_id = None
        if options["pipeline"]:
            pipeline = Pipeline.objects.filter(name__iexact=options["pipeline"]).first()
            if pipeline is None:
                raise CommandError(f"No pipeline named '{options['pipeline']}'.")
            pipeline_id = pipeline.pk
        try:
            report = import_path(options["file"], by=user, resource=resource,
                                 overrides=overrides, on_duplicate=options["on_duplicate"],
                                 dry_run=options["dry_run"], pipeline_id=pipeline_id,
                                 skip_bad_rows=options["skip_bad_rows"])
        except (OSError, UnreadableFile) as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc}") from exc
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc
        except ValidationError as exc:
            raise CommandError(_validation_text(exc)) from exc
        for problem in report.errors:
            self.stderr.write(describe(problem))
        if report.error_count > len(report.errors):
            self.stderr.write(f"… and {report.error_count - len(report.errors):,} more.")
        for warning in report.warnings:
            self.stdout.write("Warning: " + describe(warning))
        self.stdout.write(summary(report))
        self.stdout.write(f"created={report.created} updated={report.updated} "
                          f"skipped={report.skipped} errors={report.error_count}")
        if report.error_count and not options["skip_bad_rows"]:
            raise CommandError(f"{report.bad_rows} bad rows; nothing was imported.",
                               returncode=1)


def _validation_text(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return " ".join(exc.messages)
