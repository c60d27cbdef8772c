"""SPIFF contest standings for the teams whose manager wants them.

A team shows its standings once its manager (or an admin) turns them on
(`CompContestSetting`), choosing what its reps see: nothing (managers only), their own
rank and figures, everyone's rank and deals with only their own payout, or the whole
standings. Managers see the teams they answer for; admins and executives every team.

A contest is a SPIFF of the plans in force for the team's people. Each person's standing
is their plan's SPIFF line on the deals credited to them from the contest's first day to
today (or its last day): the qualifying credit lines, their credited amount and the
payout so far, in the plan's currency — the exact path's figures (`engine.spiff_line`)
on one span, so a contest across two pay periods may differ by a cent from the sum of
the two statements' rounded lines. Ranked by payout, then credited amount; ties share a
rank."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from salesplan.core.audit import record_changes, record_created
from salesplan.core.errors import NotFound
from salesplan.core.permissions import require
from salesplan.core.records import claim_version
from salesplan.core.registry import ALL, allowed, scope_for
from salesplan.engines import compensation as engine
from salesplan.org import selectors as org_reads
from salesplan.org.models import Role, Team, User

from . import batch, calculation
from .definitions import plan_from_definition
from .models import CompContestSetting, CompPeriod, CompPlan, ContestVisibility

# --- who sees what -------------------------------------------------------------------------


def setting_of(team: Team) -> CompContestSetting | None:
    return CompContestSetting.objects.filter(team=team).first()


def teams(user) -> list[Team]:
    """The teams whose standings the user may open (or, as their manager, turn on)."""
    require(user, "comp_contest", "view")
    if scope_for(user, "comp_contest", "view") == ALL:
        return list(Team.objects.order_by("name", "id"))
    ids = set(org_reads.managed_team_ids(user)) if user.role != Role.REP else {user.team_id}
    return [t for t in Team.objects.filter(pk__in=ids).order_by("name", "id")
            if allowed(user, "comp_contest", "view", t)]


def get_team(user, pk: int) -> Team:
    team = Team.objects.filter(pk=pk).first()
    if team is None or not allowed(user, "comp_contest", "view", team):
        require(user, "comp_contest", "view")
        raise NotFound(f"No contest standings for team {pk}.")
    return team


def rep_visibility(user, team: Team) -> str:
    """What of the standings this user sees: everything, unless they are one of the
    team's reps (then the team's setting)."""
    if allowed(user, "comp_contest", "configure", team) or user.role != Role.REP:
        return ContestVisibility.FULL
    setting = setting_of(team)
    return setting.visibility if setting and setting.enabled else ContestVisibility.MANAGERS


# --- contests and standings ----------------------------------------------------------------


@dataclass(frozen=True)
class Contest:
    key: str
    label: str
    starts: date
    ends: date

    def days_left(self, today: date) -> int:
        """Days of the contest still to run, today included (0 once it has ended)."""
        if today > self.ends:
            return 0
        return (self.ends - max(today, self.starts)).days + 1

    def status(self, today: date) -> str:
        return "upcoming" if today < self.starts else "ended" if today > self.ends \
            else "running"


@dataclass(frozen=True)
class Standing:
    rank: int
    rep: User
    currency: str
    deals: int
    amount: Decimal | None  # None: hidden from this user
    payout: Decimal | None


def _people(team: Team) -> list[User]:
    return list(User.objects.filter(team_id__in=org_reads.team_subtree_ids(team.pk),
                                    is_active=True).order_by("id"))


def _plans(people: list[User], today: date) -> dict[int, tuple[CompPlan, engine.Plan]]:
    out = {}
    for rep_id, row in batch.plans_for(people, batch.plans_in_force(today)).items():
        try:
            out[rep_id] = (row, plan_from_definition(row.definition, row.currency))
        except ValidationError:
            continue  # a plan that cannot be read pays no contest
    return out


def contests(user, team: Team, today: date) -> list[Contest]:
    """The SPIFFs of the plans in force for the team's people (none while turned off)."""
    get_team(user, team.pk)
    setting = setting_of(team)
    if setting is None or not setting.enabled:
        return []
    found: dict[str, Contest] = {}
    for _row, plan in _plans(_people(team), today).values():
        for spiff in plan.spiffs:
            found.setdefault(spiff.key, Contest(spiff.key, spiff.label, spiff.starts,
                                                spiff.ends))
    return sorted(found.values(), key=lambda c: (c.starts, c.key))


def _standing_of(rep: User, plan: engine.Plan, spiff: engine.Spiff,
                 book: calculation.PeriodBook) -> tuple[int, Decimal, Decimal]:
    rates = book.rates(plan)
    mine = [c for c in book.by_rep.get(rep.pk, [])
            if engine.counting(book.deals[c.deal_id], plan.clawback_days)]
    line = engine.spiff_line(spiff, engine.credit_bases(mine, book.deals, rates))
    if line is None:
        return 0, Decimal("0.00"), Decimal("0.00")
    return (len(line.trace), engine.money(sum((t.base for t in line.trace), Decimal(0))),
            line.amount)


def standings(user, team: Team, key: str, today: date) -> tuple[Contest, list[Standing]]:
    """The contest's standings as this user may see them (404 for an unknown contest)."""
    contest = next((c for c in contests(user, team, today) if c.key == key), None)
    if contest is None:
        raise NotFound(f"Team {team} has no contest {key!r}.")
    visibility = rep_visibility(user, team)
    if visibility == ContestVisibility.MANAGERS:
        require(user, "comp_contest", "configure", team)  # a rep: 403 with the reason
    people = {p.pk: p for p in _people(team)}
    entrants = [(people[rep_id], plan, spiff)
                for rep_id, (_row, plan) in _plans(list(people.values()), today).items()
                for spiff in plan.spiffs if spiff.key == key]
    books: dict[tuple[date, date], calculation.PeriodBook] = {}
    scored = []
    for rep, plan, spiff in entrants:
        span = (spiff.starts, min(spiff.ends, today))
        if span[1] < span[0]:
            scored.append((rep, plan.currency, 0, Decimal("0.00"), Decimal("0.00")))
            continue
        if span not in books:
            reps = {r.pk for r, _p, s in entrants if (s.starts, min(s.ends, today)) == span}
            books[span] = calculation.PeriodBook(CompPeriod(starts=span[0], ends=span[1]),
                                                 reps)
        scored.append((rep, plan.currency, *_standing_of(rep, plan, spiff, books[span])))
    scored.sort(key=lambda s: (-s[4], -s[3], s[0].pk))
    return contest, _shown(user, _ranked(scored), visibility)


def _ranked(scored: list) -> list[Standing]:
    out: list[Standing] = []
    for i, (rep, currency, deals, amount, payout) in enumerate(scored):
        tied = out and (out[-1].payout, out[-1].amount) == (payout, amount)
        out.append(Standing(out[-1].rank if tied else i + 1, rep, currency, deals, amount,
                            payout))
    return out


def _shown(user, rows: list[Standing], visibility: str) -> list[Standing]:
    if visibility == ContestVisibility.FULL:
        return rows
    if visibility == ContestVisibility.OWN:
        return [r for r in rows if r.rep.pk == user.pk]
    return [r if r.rep.pk == user.pk else Standing(r.rank, r.rep, r.currency, r.deals,
                                                   None, None) for r in rows]


# --- the team's setting --------------------------------------------------------------------

FIELDS = ("enabled", "visibility")


@transaction.atomic
def set_contest_setting(team: Team, *, by, data: dict[str, Any],
                        expected_version: int | None) -> CompContestSetting:
    """Turn the team's standings on or off and choose what its reps see (its manager or
    an admin). The first setting of a team takes no version; a change takes the one read."""
    require(by, "comp_contest", "configure", team)
    setting = CompContestSetting.objects.select_for_update().filter(team=team).first()
    visibility = data.get("visibility") or (setting.visibility if setting
                                            else ContestVisibility.MANAGERS)
    if visibility not in ContestVisibility.values:
        raise ValidationError({"visibility": f"visibility is one of "
                                             f"{', '.join(ContestVisibility.values)}"})
    enabled = data.get("enabled")
    if setting is None:
        setting = CompContestSetting.objects.create(
            team=team, enabled=True if enabled is None else bool(enabled),
            visibility=visibility, updated_by=by)
        record_created(setting, by)
        return setting
    claim_version(setting, expected_version)
    before = {k: getattr(setting, k) for k in FIELDS}
    setting.enabled = setting.enabled if enabled is None else bool(enabled)
    setting.visibility = visibility
    setting.updated_by = by
    setting.save()
    record_changes(setting, {k: (before[k], getattr(setting, k)) for k in FIELDS
                             if before[k] != getattr(setting, k)}, by)
    return setting
