"""`salesplan users invite|list|deactivate|reactivate|end-sessions`: the company's people
from the command line (the server operator; every change is audited as the system's)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from salesplan.core.errors import StaleVersion
from salesplan.org import selectors, services_people
from salesplan.org.models import Role, Team, User


def _user(username: str, field: str = "username") -> User:
    found = User.objects.filter(username=username).first()
    if found is None:
        raise CommandError(f"{field}: no user named {username!r}.")
    return found


def _team(name: str | None) -> Team | None:
    if not name:
        return None
    found = Team.objects.filter(name__iexact=name).first()
    if found is None:
        raise CommandError(f"--team: no team called {name!r} (see `salesplan teams list`).")
    return found


class Command(BaseCommand):
    help = ("Invite, list, deactivate (with a hand-over to a successor) and reactivate "
            "people. Invitation emails go through SALESPLAN_EMAIL_URL with links starting "
            "with SALESPLAN_BASE_URL.")

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        invite = actions.add_parser("invite", help="Create a person and email them a "
                                                   "one-time link to set their password.")
        invite.add_argument("email")
        invite.add_argument("--first-name", default="")
        invite.add_argument("--last-name", default="")
        invite.add_argument("--username", default="", help="Default: from the email address.")
        invite.add_argument("--role", choices=Role.values, default=Role.REP)
        invite.add_argument("--team", help="The team's name.")
        invite.add_argument("--manager", help="The manager's username (default: the "
                                              "team's manager).")
        listing = actions.add_parser("list", help="List people with role, team and status.")
        listing.add_argument("--all", action="store_true", help="Include deactivated people.")
        deactivate = actions.add_parser(
            "deactivate", help="Show what a person holds and, with --yes, hand it all to "
                               "--successor and deactivate them, in one transaction.")
        deactivate.add_argument("username")
        deactivate.add_argument("--successor", help="Username of who takes everything over.")
        deactivate.add_argument("--yes", action="store_true",
                                help="Apply the hand-over (without it: only the preview).")
        reactivate = actions.add_parser("reactivate", help="Let a deactivated person log in "
                                                           "again.")
        reactivate.add_argument("username")
        end = actions.add_parser("end-sessions", help="Log a person out of every browser.")
        end.add_argument("username")

    def handle(self, *args, action: str, **options):
        try:
            getattr(self, f"_{action.replace('-', '_')}")(**options)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        except StaleVersion as exc:
            raise CommandError(str(exc)) from exc

    def _invite(self, email, first_name, last_name, username, role, team, manager, **_):
        person = services_people.invite_user(
            by=None, email=email, first_name=first_name, last_name=last_name,
            username=username, role=role, team=_team(team),
            manager=_user(manager, "--manager") if manager else None)
        self.stdout.write(f"Invited {person.username} <{person.email}> as "
                          f"{person.get_role_display()}; the email is sent.")

    def _list(self, all: bool = False, **_):
        for p in selectors.people(status="" if all else "active"):
            state = ("deactivated" if not p.is_active else
                     "invited" if not p.has_usable_password() else "active")
            self.stdout.write("\t".join([p.username, p.email, p.role, p.team.name if p.team
                                         else "-", p.manager.username if p.manager else "-",
                                         state]))

    def _deactivate(self, username, successor, yes, **_):
        person = _user(username)
        heir = _user(successor, "--successor") if successor else None
        plan = services_people.preview_handover(person, by=None, successor=heir)
        for row in plan.rows():
            self.stdout.write(f"{row['label']}: {row['count']} → {row['goes_to']}")
        if not plan.total:
            self.stdout.write("They hold nothing to hand over.")
        if not yes:
            self.stdout.write("Preview only: add --yes to hand over and deactivate.")
            return
        moved = services_people.deactivate_user(person, by=None, successor=heir,
                                                fingerprint=plan.fingerprint)
        self.stdout.write(f"Deactivated {person.username}; moved {sum(moved.values())} "
                          f"records{f' to {heir.username}' if heir else ''}.")

    def _reactivate(self, username, **_):
        person = _user(username)
        services_people.reactivate_user(person, by=None, expected_version=None)
        self.stdout.write(f"Reactivated {person.username}.")

    def _end_sessions(self, username, **_):
        ended = services_people.end_sessions(_user(username), by=None)
        self.stdout.write(f"Ended {ended} sessions of {username}.")
