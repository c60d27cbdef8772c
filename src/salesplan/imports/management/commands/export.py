"""salesplan export RESOURCE --as USERNAME --format csv|xlsx -o FILE [--filter key=value ...]"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from salesplan.core.permissions import has_permission
from salesplan.imports import exports
from salesplan.org.models import User


class Command(BaseCommand):
    help = ("Export a list (accounts, contacts, leads, opportunities, activities) as one "
            "user sees it, with the list page's filters, to CSV or XLSX.")

    def add_arguments(self, parser):
        parser.add_argument("resource")
        parser.add_argument("--as", dest="username", required=True)
        parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
        parser.add_argument("-o", "--output", required=True, help="file to write")
        parser.add_argument("--filter", action="append", default=[], metavar="KEY=VALUE",
                            help="a list filter, as in the page's URL (repeatable)")

    def handle(self, *args, **options):
        resource = exports.resource_name(options["resource"])
        if resource is None:
            raise CommandError(f"Cannot export '{options['resource']}'.")
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user '{options['username']}'.")
        if not has_permission(user, resource, "view"):
            raise CommandError(f"{user.username} may not view {resource} records.")
        params: dict[str, list[str]] = {}
        for item in options["filter"]:
            key, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--filter takes KEY=VALUE, not '{item}'.")
            params.setdefault(key.strip(), []).append(value)
        try:
            rows = exports.export_rows(user, resource, params)
            count = self._write(rows, resource, options["format"], options["output"])
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}"
                                         for k, v in exc.message_dict.items())) from exc
        self.stdout.write(f"Exported {count} rows to {options['output']}.")

    def _write(self, rows, resource: str, fmt: str, path: str) -> int:
        if fmt == "xlsx":
            return exports.write_xlsx(rows, resource, path)
        count = -1  # the header line is not a row
        with open(path, "w", encoding="utf-8", newline="") as handle:
            for line in exports.csv_lines(rows, resource):
                handle.write(line)
                count += 1
        return count
