"""`salesplan signon`: sign-on from the command line, through the same services.

    salesplan signon mappings                              the provider's groups → role, team
    salesplan signon map GROUP [--role ROLE] [--team NAME] map a group (or change its mapping)
    salesplan signon unmap GROUP                           remove a group's mapping
    salesplan signon reset-2fa USERNAME                    reset a user's two-factor (lost phone)
    salesplan signon policy [--require-admin-2fa on|off]   show or set the policy

Changes are made as the first active admin, or `--as USERNAME`.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from salesplan.core.errors import NotFound
from salesplan.org.models import Role, Team, User
from salesplan.signon import selectors, services, two_factor
from salesplan.signon.models import GroupMapping, SignOnPolicy


class Command(BaseCommand):
    help = "Sign-on: map the OpenID provider's groups, reset two-factor, set the policy."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("mappings", help="The provider's groups and the role and team each gives.")
        mapping = sub.add_parser("map", help="Map a group to a role and/or a team.")
        mapping.add_argument("group")
        mapping.add_argument("--role", choices=Role.values, default="")
        mapping.add_argument("--team", default="", help="The team's name.")
        unmap = sub.add_parser("unmap", help="Remove a group's mapping.")
        unmap.add_argument("group")
        reset = sub.add_parser("reset-2fa", help="Reset a user's two-factor authentication.")
        reset.add_argument("username")
        policy = sub.add_parser("policy", help="Show or set the sign-on policy.")
        policy.add_argument("--require-admin-2fa", choices=["on", "off"], default=None)
        for p in sub.choices.values():
            p.add_argument("--as", dest="as_user",
                           help="Act as this user (default: the first active admin).")

    def handle(self, *args, **options) -> None:
        active = User.objects.filter(is_active=True)
        by = (active.filter(username=options["as_user"]) if options.get("as_user")
              else active.filter(role=Role.ADMIN)).order_by("id").first()
        if by is None:
            raise CommandError("Nobody to act as: pass --as with an active user's name "
                               "(the default is the first active admin).")
        action = getattr(self, "_" + options["action"].replace("-", "_"))
        try:
            action(by, options)
        except (ValidationError, PermissionDenied, NotFound) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from exc

    def _mappings(self, by, options) -> None:
        rows = list(selectors.mappings())
        if not rows:
            self.stdout.write("No group is mapped.")
        for m in rows:
            self.stdout.write(f"{m.group}\trole={m.role or '-'}\tteam={m.team or '-'}")

    def _map(self, by, options) -> None:
        team_id = None
        if options["team"]:
            team = Team.objects.filter(name=options["team"]).first()
            if team is None:
                raise CommandError(f"No team named {options['team']!r}.")
            team_id = team.pk
        existing = GroupMapping.objects.filter(group=options["group"]).first()
        if existing is None:
            services.create_mapping(by=by, group=options["group"], role=options["role"],
                                    team_id=team_id)
        else:
            services.update_mapping(existing, by=by, data={"role": options["role"],
                                                           "team_id": team_id})
        self.stdout.write(f"Mapped {options['group']}.")

    def _unmap(self, by, options) -> None:
        existing = GroupMapping.objects.filter(group=options["group"]).first()
        if existing is None:
            raise CommandError(f"The group {options['group']!r} is not mapped.")
        services.delete_mapping(existing, by=by)
        self.stdout.write(f"Removed the mapping of {options['group']}.")

    def _reset_2fa(self, by, options) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}.")
        had = two_factor.reset_two_factor(user, by=by)
        self.stdout.write(f"Two-factor authentication of {user.username} reset." if had
                          else f"{user.username} had no two-factor authentication.")

    def _policy(self, by, options) -> None:
        wanted = options["require_admin_2fa"]
        if wanted is not None:
            services.update_policy(by=by, require_admin_two_factor=wanted == "on")
        policy = SignOnPolicy.current()
        self.stdout.write("Two-factor authentication required for admins: "
                          + ("on" if policy.require_admin_two_factor else "off"))
