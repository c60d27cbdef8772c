"""`salesplan grant USER ACTION… [--revoke]`: an admin gives one user a grantable action
company-wide (e.g. `alignment.activate`), or takes it back; without actions, lists what
may be granted and what the user holds."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from salesplan.core.registry import grant, grantable_entries, has_grant
from salesplan.core.registry import revoke as revoke_grant


class Command(BaseCommand):
    help = ("Grant a user (or --revoke) company-wide actions that are an admin's by "
            "default, such as creating and activating territory alignments.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("actions", nargs="*", metavar="resource.action")
        parser.add_argument("--revoke", action="store_true", help="Take the actions back.")

    def handle(self, *args, username, actions, revoke: bool, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user called {username!r}.")
        known = {entry.key: entry for entry in grantable_entries()}
        unknown = sorted(set(actions) - set(known))
        if unknown:
            raise CommandError(f"Not grantable: {', '.join(unknown)}. Grantable: "
                               f"{', '.join(sorted(known))}.")
        for key in actions:
            resource, action = key.split(".", 1)
            (revoke_grant if revoke else grant)(user, resource, action)
        for key, entry in sorted(known.items()):
            mark = "granted" if has_grant(user, entry) else "-"
            self.stdout.write(f"{key:24} {mark:8} {entry.doc}")

