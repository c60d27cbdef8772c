"""`salesplan token create USERNAME [--name NAME]`, `salesplan token revoke PREFIX`,
`salesplan token list [USERNAME]`: API tokens for scripts and integrations."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from salesplan.org.models import ApiToken, User
from salesplan.org.services import create_api_token, revoke_api_token


class Command(BaseCommand):
    help = "Create, list and revoke API tokens."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Create a token; it is printed once.")
        create.add_argument("username")
        create.add_argument("--name", default="API token", help="What the token is for.")
        revoke = actions.add_parser("revoke", help="Revoke a token by its prefix (sp_…).")
        revoke.add_argument("prefix")
        listing = actions.add_parser("list", help="List tokens (never their keys).")
        listing.add_argument("username", nargs="?")

    def handle(self, *args, action: str, **options):
        getattr(self, f"_{action}")(**options)

    def _create(self, username: str, name: str, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        try:
            token, raw_key = create_api_token(user, name)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stderr.write(f"Token {token.prefix}… for {user.username} ({token.name}). "
                          "Copy it now: it is not stored and cannot be shown again.")
        self.stdout.write(raw_key)

    def _revoke(self, prefix: str, **options):
        tokens = list(ApiToken.objects.filter(prefix=prefix[:12]).select_related("user"))
        if len(prefix) > 12:  # a whole key was given: match it exactly
            tokens = [t for t in tokens if t.key_hash == ApiToken.hash_key(prefix)]
        if not tokens:
            raise CommandError(f"No token starts with {prefix[:12]!r}.")
        if len(tokens) > 1:
            raise CommandError(f"{len(tokens)} tokens start with {prefix!r}; give the whole key.")
        token = tokens[0]
        if token.revoked_at is not None:
            self.stdout.write(f"Token {token.prefix}… was already revoked.")
            return
        revoke_api_token(token, by=None)
        self.stdout.write(f"Revoked token {token.prefix}… of {token.user.username} "
                          f"({token.name}).")

    def _list(self, username: str | None = None, **options):
        tokens = ApiToken.objects.select_related("user").order_by("user__username", "-created_at")
        if username:
            tokens = tokens.filter(user__username=username)
        for token in tokens:
            state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
            used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
            self.stdout.write(f"{token.prefix}…  {token.user.username:<20} {state:<18} "
                              f"last used {used:<16}  {token.name}")
