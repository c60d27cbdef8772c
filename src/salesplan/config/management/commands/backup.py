"""`salesplan backup [FILE]`: the database and uploaded files in one file, taken online."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from salesplan.config.backup import BackupError, create_backup


class Command(BaseCommand):
    help = ("Back up the database (online: the server keeps running) and the uploaded "
            "files into one .tar file; `salesplan restore FILE` puts it back.")

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?",
                            help="Where to write the backup (default: var/backups/"
                                 "salesplan-<date>-<time>.tar)")

    def handle(self, *args, file: str | None, **options):
        if file:
            target = Path(file)
        else:
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
            target = Path(settings.VAR_DIR) / "backups" / f"salesplan-{stamp}.tar"
        try:
            manifest = create_backup(target)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        size = target.stat().st_size
        self.stdout.write(f"Backed up the {manifest.database} database and "
                          f"{manifest.media_files:,} uploaded "
                          f"file{'s' if manifest.media_files != 1 else ''} to {target} "
                          f"({size / 1_048_576:,.1f} MB).")
