"""`salesplan openapi [--check]`: write the API schema to docs/openapi.json, or check it.

The committed schema is the API's contract: a change to an endpoint that does not
update the file fails CI, so every change to the contract is reviewed.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def committed_schema_path() -> Path:
    return Path(settings.BASE_DIR) / "docs" / "openapi.json"


class Command(BaseCommand):
    help = "Write the API's OpenAPI schema to docs/openapi.json (or --check that it is current)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true",
                            help="Do not write; exit non-zero when the committed file differs.")
        parser.add_argument("--output", type=Path, default=None,
                            help="Where to write (default: docs/openapi.json).")

    def handle(self, *args, check: bool = False, output: Path | None = None, **options):
        from salesplan.config.api import api

        path = output or committed_schema_path()
        schema = api.openapi_json()
        if check:
            current = path.read_text(encoding="utf-8") if path.exists() else ""
            if current != schema:
                raise CommandError(
                    f"{path} is out of date with the API. Run `salesplan openapi` and commit it.")
            self.stdout.write(f"{path} is up to date.")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(schema, encoding="utf-8")
        self.stdout.write(f"Wrote {path}.")
