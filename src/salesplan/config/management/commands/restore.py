"""`salesplan restore FILE [--yes]`: replace the database and uploaded files with a backup."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from salesplan.config.backup import BackupError, describe_backup, restore_backup


class Command(BaseCommand):
    help = ("Replace this installation's database and uploaded files with those of a "
            "backup made by `salesplan backup`. Everything written since is lost.")

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--yes", action="store_true",
                            help="Do not ask for confirmation.")

    def handle(self, *args, file: str, yes: bool, **options):
        source = Path(file)
        try:
            manifest = describe_backup(source)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{source}: a {manifest.database} backup from {manifest.created_at} "
                          f"with {manifest.media_files:,} uploaded "
                          f"file{'s' if manifest.media_files != 1 else ''}.")
        if not yes:
            if not sys.stdin.isatty():
                raise CommandError("Restoring replaces every record written since the backup; "
                                   "add --yes to confirm.")
            answer = input("This replaces every record written since the backup. "
                           "Type 'restore' to go on: ")
            if answer.strip() != "restore":
                raise CommandError("Nothing was changed.")
        try:
            restore_backup(source)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("Restored. Run `salesplan migrate` if this Salesplan is newer than "
                          "the backup.")
