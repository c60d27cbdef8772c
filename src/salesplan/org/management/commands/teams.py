"""`salesplan teams create|move|rename|list`: the team tree from the command line."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from salesplan.org import selectors, services_teams
from salesplan.org.models import Team, User


def _team(name: str, field: str) -> Team:
    found = Team.objects.filter(name__iexact=name).first()
    if found is None:
        raise CommandError(f"{field}: no team called {name!r}.")
    return found


class Command(BaseCommand):
    help = "Create, move, rename and list the teams (the tree managers' visibility follows)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Create a team.")
        create.add_argument("name")
        create.add_argument("--parent", help="The team it belongs to (default: a top team).")
        create.add_argument("--manager", help="The manager's username.")
        move = actions.add_parser("move", help="Move a team under another (or --top); a "
                                               "move under its own sub-team is refused.")
        move.add_argument("name")
        where = move.add_mutually_exclusive_group(required=True)
        where.add_argument("--under", help="The new parent team.")
        where.add_argument("--top", action="store_true", help="Make it a top team.")
        rename = actions.add_parser("rename", help="Rename a team.")
        rename.add_argument("name")
        rename.add_argument("new_name")
        manage = actions.add_parser("set-manager", help="Set (or with no username, clear) "
                                                        "a team's manager.")
        manage.add_argument("name")
        manage.add_argument("username", nargs="?")
        actions.add_parser("list", help="The tree, indented, with each team's manager.")

    def handle(self, *args, action: str, **options):
        try:
            getattr(self, f"_{action.replace('-', '_')}")(**options)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc

    def _manager(self, username: str | None) -> User | None:
        if not username:
            return None
        found = User.objects.filter(username=username).first()
        if found is None:
            raise CommandError(f"--manager: no user named {username!r}.")
        return found

    def _create(self, name, parent, manager, **_):
        team = services_teams.create_team(
            by=None, name=name, parent=_team(parent, "--parent") if parent else None,
            manager=self._manager(manager))
        self.stdout.write(f"Created team {team.name}.")

    def _move(self, name, under, top, **_):
        team = _team(name, "name")
        parent = None if top else _team(under, "--under")
        services_teams.move_team(team, by=None, parent=parent, expected_version=None)
        where = "a top team" if parent is None else f"under {parent.name}"
        self.stdout.write(f"{team.name} is now {where}.")

    def _rename(self, name, new_name, **_):
        team = _team(name, "name")
        services_teams.update_team(team, by=None, data={"name": new_name},
                                   expected_version=None)
        self.stdout.write(f"Renamed to {team.name}.")

    def _set_manager(self, name, username, **_):
        team = _team(name, "name")
        services_teams.update_team(team, by=None, data={"manager": self._manager(username)},
                                   expected_version=None)
        self.stdout.write(f"{team.name}'s manager: {team.manager or 'nobody'}.")

    def _list(self, **_):
        for team, depth in selectors.team_tree():
            manager = team.manager.username if team.manager else "-"
            self.stdout.write(f"{'  ' * depth}{team.name}\t{manager}")
