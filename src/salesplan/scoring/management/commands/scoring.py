"""`salesplan scoring`: lead scoring from the command line, through the same services.

    salesplan scoring train [--min-per-class N] [--test-fraction F]
                            [--split stratified|time] [--no-rescore]
    salesplan scoring score                        score every lead (rules and model)
    salesplan scoring model                        the current model's held-out measures
    salesplan scoring rules                        the scoring rules
    salesplan scoring lead ID [--as USERNAME]      one lead's score and its reasons
"""

import time

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from salesplan.core.errors import NotFound
from salesplan.org.models import Role, User
from salesplan.scoring import selectors, services
from salesplan.scoring.models import ModelStatus, ScoringModel, ScoringRule


class Command(BaseCommand):
    help = "Lead scoring: train the predictive model, score leads, show models and rules."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        train = sub.add_parser("train", help="Train on converted vs disqualified leads.")
        train.add_argument("--min-per-class", type=int, default=None,
                           help="Fewest converted and disqualified leads (default 20).")
        train.add_argument("--test-fraction", type=float, default=0.25,
                           help="Share of the history held out to measure (0.05–0.5).")
        train.add_argument("--split", choices=["stratified", "time"], default="stratified",
                           help="Hold out a random stratified share or the newest leads.")
        train.add_argument("--no-rescore", action="store_true",
                           help="Do not rescore the leads after training.")
        sub.add_parser("score", help="Score every lead with the rules and the model.")
        sub.add_parser("model", help="The current model and its held-out measures.")
        sub.add_parser("rules", help="The scoring rules.")
        lead = sub.add_parser("lead", help="One lead's score and reasons.")
        lead.add_argument("lead", type=int)
        for p in sub.choices.values():
            p.add_argument("--as", dest="username",
                           help="Act as this user (default: the first active admin).")

    def handle(self, *args, **options) -> None:
        user = self._user(options.get("username"))
        try:
            getattr(self, f"_{options['action']}")(user, options)
        except (ValidationError, PermissionDenied, NotFound) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from exc

    def _user(self, username: str | None) -> User:
        users = User.objects.filter(is_active=True)
        user = (users.filter(username=username).first() if username
                else users.filter(role=Role.ADMIN).order_by("id").first())
        if user is None:
            raise CommandError(f"No active user {username!r}." if username
                               else "No active admin; pass --as USERNAME.")
        return user

    def _train(self, user, options) -> None:
        started = time.perf_counter()
        model = services.train_model(by=user, min_per_class=options["min_per_class"],
                                     test_fraction=options["test_fraction"],
                                     split=options["split"])
        if model.status == ModelStatus.REFUSED:
            raise CommandError(f"Model v{model.version} refused: {model.reason}")
        self.stdout.write(f"Trained model v{model.version} in "
                          f"{time.perf_counter() - started:.1f} s.")
        self._describe(model)
        if not options["no_rescore"]:
            self._score(user, options)

    def _score(self, user, options) -> None:
        services.require_manage(user)
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            self.stdout.write(f"  scored {done:,} of {total:,} leads")

        result = services.rescore_all(progress=progress)
        model = f"model v{result['model_version']}" if result["model_version"] else "no model"
        self.stdout.write(f"Scored {result['leads']:,} leads with {result['rules']} rules and "
                          f"{model} in {time.perf_counter() - started:.1f} s.")

    def _model(self, user, options) -> None:
        model = selectors.current_model()
        latest = selectors.latest_model()
        if latest is not None and latest != model and latest.reason:
            self.stdout.write(f"Latest training v{latest.version} refused: {latest.reason}")
        if model is None:
            raise CommandError("No predictive model has been trained yet.")
        self._describe(model)

    def _describe(self, model: ScoringModel) -> None:
        m, c = model.metrics, model.counts
        self.stdout.write(
            f"Model v{model.version}: trained on {c['train_rows']:,} leads, measured on "
            f"{c['test_rows']:,} held out ({c['converted']:,} converted, "
            f"{c['disqualified']:,} disqualified in all).")
        self.stdout.write(f"  held-out AUC {m['auc']:.3f}  Brier {m['brier']:.4f}  "
                          f"log loss {m['log_loss']:.4f}  base rate {m['base_rate']:.1%}")
        self.stdout.write("  decile  leads  predicted  observed")
        for row in model.calibration:
            self.stdout.write(f"  {row['decile']:>6}  {row['rows']:>5}  {row['predicted']:>9.1%}"
                              f"  {row['observed']:>8.1%}")

    def _rules(self, user, options) -> None:
        for rule in ScoringRule.objects.all():
            state = "" if rule.active else "  (paused)"
            self.stdout.write(f"{rule.pk:>5}  {rule.kind:<10} {rule.points:>+5}  {rule}{state}")

    def _lead(self, user, options) -> None:
        lead, score = selectors.lead_score(user, options["lead"])
        score = services.rescore_lead(lead) if score is None else score
        self.stdout.write(f"{lead}: grade {score.grade}, {score.total} points "
                          f"({score.fit} fit, {score.engagement} engagement)")
        for reason in score.reasons:
            self.stdout.write(f"  {reason['points']:>+5}  {reason['rule']}")
        if score.probability is not None:
            self.stdout.write(f"Predicted chance to convert: {score.probability:.1%}")
            for reason in score.predictive_reasons:
                self.stdout.write(f"  {reason['effect']:>+8.3f}  {reason['feature']}")
