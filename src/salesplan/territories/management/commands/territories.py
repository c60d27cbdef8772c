"""`salesplan territories`: assign accounts, activate an alignment, list territories and
boundary violations from the command line.

    salesplan territories list [--alignment ID]
    salesplan territories assign [--alignment ID] [--as USERNAME]
    salesplan territories activate ID [--ownership stay|move] [--as USERNAME]
    salesplan territories violations [--as USERNAME] [--limit N]
    salesplan territories optimise [--alignment ID] [--parent TERRITORY_ID | --territory ID ...]
        [--unit account|zip] [--measure accounts|potential|pipeline|workload|visit_days ...]
        [--tau 0.05] [--objective squared|distance] [--lock ID_OR_ZIP ...] [--keep-share S]
        [--move-penalty P] [--time-limit S] [--contiguous] [--name NAME] [--as USERNAME]
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from salesplan.core.models import BackgroundJob
from salesplan.org.models import Role, User
from salesplan.territories import services
from salesplan.territories.models import Alignment, Territory
from salesplan.territories.selectors import active_alignment, violations


class Command(BaseCommand):
    help = "Territory management: list, assign, activate, violations."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="Alignments, or one alignment's territory tree.")
        listing.add_argument("--alignment", type=int)
        assign = sub.add_parser("assign", help="Assign every account (default: active alignment).")
        assign.add_argument("--alignment", type=int)
        activate = sub.add_parser("activate", help="Make a draft alignment the active one.")
        activate.add_argument("alignment", type=int)
        activate.add_argument("--ownership", choices=["stay", "move"], default="stay")
        found = sub.add_parser("violations", help="Records whose owner breaks the boundaries.")
        found.add_argument("--limit", type=int, default=500)
        opt = sub.add_parser("optimise", help="Rebalance territories into a new draft.")
        opt.add_argument("--alignment", type=int, help="Source (default: the active one).")
        opt.add_argument("--parent", type=int, help="Rebalance this territory's children.")
        opt.add_argument("--territory", type=int, action="append", default=[],
                         help="A territory to rebalance (repeat); default: every leaf "
                              "geographic territory.")
        opt.add_argument("--unit", choices=["account", "zip"], default="account")
        opt.add_argument("--measure", action="append",
                         choices=["accounts", "potential", "pipeline", "workload",
                                  "visit_days"])
        opt.add_argument("--tau", type=float, default=0.05)
        opt.add_argument("--objective", choices=["squared", "distance"], default="squared")
        opt.add_argument("--lock", action="append", default=[])
        opt.add_argument("--keep-share", type=float)
        opt.add_argument("--move-penalty", type=float, default=0.0)
        opt.add_argument("--time-limit", type=float, default=30.0)
        opt.add_argument("--contiguous", action="store_true",
                         help="Keep each territory one piece of neighbouring units.")
        opt.add_argument("--name", default="")
        for p in (listing, assign, activate, found, opt):
            p.add_argument("--as", dest="username",
                           help="Act as this user (default: the first active admin).")

    def handle(self, *args, **options) -> None:
        user = self._user(options.get("username"))
        try:
            getattr(self, f"_{options['action']}")(user, options)
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError(_message(exc)) from exc

    def _user(self, username: str | None) -> User:
        users = User.objects.filter(is_active=True)
        user = (users.filter(username=username).first() if username
                else users.filter(role=Role.ADMIN).order_by("id").first()
                or users.filter(is_superuser=True).order_by("id").first())
        if user is None:
            raise CommandError(f"No active user {username!r}." if username
                               else "No active admin; pass --as USERNAME.")
        return user

    def _alignment(self, alignment_id: int | None) -> Alignment:
        alignment = (Alignment.objects.filter(pk=alignment_id).first() if alignment_id
                     else active_alignment())
        if alignment is None:
            raise CommandError(f"No alignment {alignment_id}." if alignment_id else
                               "No active alignment; pass --alignment ID.")
        return alignment

    def _list(self, user, options) -> None:
        services.require_view(user)
        if not options.get("alignment"):
            for a in Alignment.objects.all():
                current = "current" if a.results_current else "needs a run"
                self.stdout.write(f"{a.pk:>5}  {a.status:<8}  {a.name}  "
                                  f"({a.territories.count()} territories; results {current})")
            return
        alignment = self._alignment(options["alignment"])
        children: dict[int | None, list[Territory]] = {}
        for t in alignment.territories.order_by("name"):
            children.setdefault(t.parent_id, []).append(t)

        def show(parent_id, depth):
            for t in children.get(parent_id, []):
                self.stdout.write(f"{'  ' * depth}{t.name}  [{t.type}, priority {t.priority}, "
                                  f"id {t.pk}]")
                show(t.pk, depth + 1)

        show(None, 0)

    def _assign(self, user, options) -> None:
        alignment = self._alignment(options.get("alignment"))
        job = services.start_assignment(alignment, by=user)
        job.refresh_from_db()
        if job.status == BackgroundJob.Status.FAILED:
            raise CommandError(job.message)
        if job.finished:
            self.stdout.write(job.message)
        else:
            self.stdout.write(f"Assignment job {job.pk} started; follow it at "
                              f"/api/v1/jobs/{job.pk}.")

    def _activate(self, user, options) -> None:
        alignment = self._alignment(options["alignment"])
        change = services.activate_alignment(alignment, by=user, ownership=options["ownership"])
        self.stdout.write(f"{alignment.name} is now active; {change.accounts_moved} account "
                          f"assignments moved, {change.owners_changed} owners changed.")

    def _optimise(self, user, options) -> None:
        from salesplan.territories.optimisation import OptimisationRequest, start_optimisation

        alignment = self._alignment(options.get("alignment"))
        request = OptimisationRequest(
            territory_ids=options["territory"], parent_id=options.get("parent"),
            unit=options["unit"], measures=options.get("measure") or ["accounts"],
            tau=options["tau"], objective=options["objective"], locked=options["lock"],
            min_keep_share=options.get("keep_share"), move_penalty=options["move_penalty"],
            time_limit=options["time_limit"], name=options["name"],
            contiguous=options["contiguous"])
        run = start_optimisation(alignment, by=user, request=request)
        run.refresh_from_db()
        job = run.job
        if job is not None and job.status == BackgroundJob.Status.FAILED:
            raise CommandError(run.message or job.message)
        if job is not None and job.finished:
            self.stdout.write(f"Optimisation run {run.pk}: {job.message}")
            for row in run.metrics.get("territories", []):
                figures = ", ".join(f"{m['label']} {_figure(m, 'before')} → "
                                    f"{_figure(m, 'after')} ({m['deviation']:+.1%})"
                                    for m in row["measures"])
                self.stdout.write(f"  {row['name']}: {figures}")
        else:
            self.stdout.write(f"Optimisation run {run.pk} started; follow it at "
                              f"/api/v1/territories/optimisations/{run.pk}.")

    def _violations(self, user, options) -> None:
        services.require_view(user)
        found = violations(user, limit=options["limit"])
        for v in found:
            self.stdout.write(f"{v.kind:<12} {v.record_id:>8}  {v.name}  owner {v.owner_id} "
                              f"not in territory {v.territory_id} "
                              f"(territory owner {v.territory_owner_id or 'none'})")
        self.stdout.write(f"{len(found)} violation(s).")


def _figure(measure: dict, key: str) -> str:
    # Visit days a month are a few per territory: whole numbers would hide the balance.
    return f"{measure[key]:,.1f}" if measure["measure"] == "visit_days" \
        else f"{measure[key]:,.0f}"


def _message(exc) -> str:
    if isinstance(exc, ValidationError) and hasattr(exc, "message_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return " ".join(getattr(exc, "messages", [str(exc)]))
