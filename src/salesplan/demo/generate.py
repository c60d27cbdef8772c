"""Rows of the demo company, generated one chunk of accounts at a time.

Everything an account brings with it (contacts, two years of deals with their stage
history, activities, and a share of the leads) is generated together, so a chunk is
self-contained and memory stays bounded however many accounts are asked for. All
randomness comes from one `random.Random`, so a seed and a date give the same company.
Rows are plain tuples in the column order of the FIELDS constants in `build.py`.
"""

import bisect
import itertools
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from salesplan.customers.models import search_key

from . import names as N
from .calendar import DayGrid, fiscal_quarter_end, is_fiscal_q4
from .geography import TEAM_OF_STATE, Place

HISTORY_DAYS = 730  # two years of deals and activities
HORIZON_DAYS = 150  # open deals close within about five months
TIERS = ("smb", "mid_market", "enterprise", "strategic")
TIER_WEIGHTS = (60, 28, 9, 3)
EMPLOYEES = {"smb": (5, 99), "mid_market": (100, 999), "enterprise": (1000, 4999),
             "strategic": (5000, 150_000)}
DEALS_PER_ACCOUNT = {"smb": (2, 5), "mid_market": (4, 7), "enterprise": (6, 11),
                     "strategic": (9, 16)}
MEDIAN_AMOUNT = {"smb": 3_500, "mid_market": 15_000, "enterprise": 55_000,
                 "strategic": 160_000}
MEDIAN_CYCLE_DAYS = {"smb": 30, "mid_market": 60, "enterprise": 110, "strategic": 160}
ACTIVITY_BONUS = {"smb": 0, "mid_market": 2, "enterprise": 5, "strategic": 8}
WIN_RATE = {"new_business": 0.20, "renewal": 0.75, "upsell": 0.35}
LEAD_STATUSES = ("new", "working", "nurturing", "qualified", "unqualified", "converted")
LEAD_STATUS_WEIGHTS = (25, 25, 15, 10, 15, 10)
LEAD_SOURCES = tuple(N.LEAD_CAMPAIGNS)
LEAD_SOURCE_WEIGHTS = (30, 10, 15, 20, 8, 12, 5)
BUYING_ROLES = tuple(N.TITLES_BY_ROLE)
WORKDAY_START, WORKDAY_MINUTES = 8 * 60, 9 * 60 + 30  # 08:00–17:30 local


@dataclass(frozen=True)
class PipelineInfo:
    """A pipeline's stage ids as the generator needs them."""

    id: int
    kind: str
    open_stages: tuple[tuple[int, int], ...]  # (stage id, probability), in order
    won: int
    lost: int


@dataclass
class IdCounters:
    """Next id per table; the generator chooses ids so related rows need no read-back."""

    account: int
    contact: int
    lead: int
    opportunity: int
    change: int
    activity: int


@dataclass
class Chunk:
    """The rows of one chunk of accounts, per table."""

    accounts: list[tuple] = field(default_factory=list)
    contacts: list[tuple] = field(default_factory=list)
    leads: list[tuple] = field(default_factory=list)
    opportunities: list[tuple] = field(default_factory=list)
    changes: list[tuple] = field(default_factory=list)
    activities: list[tuple] = field(default_factory=list)


@dataclass
class Deal:
    """What activities need to know about a generated deal."""

    id: int
    contact_id: int | None
    start: int  # day offset the deal was created
    end: int  # day offset it closed or is expected to close
    is_open: bool
    product: str


class CompanyGenerator:
    """Generates the demo company's customer base, chunk by chunk."""

    def __init__(self, rng: random.Random, grid: DayGrid, places: tuple[Place, ...],
                 reps_by_team: dict[str, list[int]], pipelines: dict[str, PipelineInfo],
                 fiscal_start_month: int, ids: IdCounters):
        self.rng, self.grid, self.places = rng, grid, places
        # random.randint/choice/choices cost ~1µs each and the generator makes hundreds
        # of millions of draws at full size: these use one random() per draw instead.
        rnd = rng.random
        self.ri = lambda low, high: low + int(rnd() * (high - low + 1))
        self.pick = lambda seq: seq[int(rnd() * len(seq))]
        self._cumulative: dict[tuple, tuple[list[float], float]] = {}
        self.reps_by_team, self.pipelines, self.ids = reps_by_team, pipelines, ids
        # Nothing is recorded after the start of today (local), whenever the demo is
        # built, so a seed and a date always give the same rows.
        self.start_of_today = grid.midnight_utc[0]
        self._close_days, self._close_cum = self._seasonal_close_days(fiscal_start_month)
        self._big_accounts: list[tuple] = []  # recent candidates for parents

    def weighted(self, values, weights):
        """One of `values`, drawn with the given relative weights."""
        cached = self._cumulative.get(weights)
        if cached is None:
            cumulative = list(itertools.accumulate(weights))
            cached = self._cumulative[weights] = (cumulative, cumulative[-1])
        cumulative, total = cached
        return values[bisect.bisect(cumulative, self.rng.random() * total)]

    def _seasonal_close_days(self, fiscal_start_month: int):
        """Working days a deal may close on, weighted: fiscal Q4 is the strong quarter and
        the last two weeks of every quarter carry the end-of-quarter push."""
        days, cumulative, total = [], [], 0.0
        for offset in range(-HISTORY_DAYS, HORIZON_DAYS + 1):
            if not self.grid.working[offset]:
                continue
            day = self.grid.dates[offset]
            weight = 1.0 if is_fiscal_q4(day, fiscal_start_month) else 0.65
            if (fiscal_quarter_end(day, fiscal_start_month) - day).days < 14:
                weight *= 1.6
            total += weight
            days.append(offset)
            cumulative.append(total)
        return days, cumulative

    # -- accounts -----------------------------------------------------------------

    def chunk(self, size: int, leads: int) -> Chunk:
        """`size` accounts with everything attached, plus `leads` leads."""
        out = Chunk()
        converted_candidates = []
        for _ in range(size):
            account = self._account(out)
            converted_candidates.append(account)
        self._leads(out, leads, converted_candidates)
        return out

    def _company_name(self) -> tuple[str, str]:
        rng = self.rng
        trade = self.pick(N.TRADES)
        style = rng.random()
        if style < 0.4:
            base = f"{self.pick(N.PLACE_WORDS)} {trade}"
        elif style < 0.75:
            base = f"{self.pick(N.LAST_NAMES)} {trade}"
        elif style < 0.9:
            base = f"{self.pick(N.LAST_NAMES)} & {self.pick(N.LAST_NAMES)} {trade}"
        else:
            base = f"{self.pick(N.PLACE_WORDS)} {self.pick(N.LAST_NAMES)} {trade}"
        return base + self.pick(N.LEGAL_SUFFIXES), trade

    def _account(self, out: Chunk) -> dict:
        rng, grid, ids = self.rng, self.grid, self.ids
        place = self.pick(self.places)
        team = TEAM_OF_STATE[place.state]
        owner = self.pick(self.reps_by_team[team])
        tier = self.weighted(TIERS, TIER_WEIGHTS)
        low, high = EMPLOYEES[tier]
        employees = int(low * (high / low) ** rng.random())  # log-uniform: a long tail
        parent = self._big_accounts[-1] if (tier in ("smb", "mid_market") and self._big_accounts
                                           and rng.random() < 0.03) else None
        if parent:
            name = f"{parent[1]} – {place.city}"
            domain, industry, parent_id = parent[2], parent[3], parent[0]
        else:
            name, trade = self._company_name()
            domain = re.sub(r"[^a-z0-9]", "", re.sub(
                r" (inc\.|llc|co\.|corp\.|group|industries)$", "", name.lower())) + ".com"
            industry = N.TRADE_INDUSTRY.get(trade) or self.pick(N.INDUSTRIES)
            parent_id = None
        account_id = ids.account
        ids.account += 1
        if tier in ("enterprise", "strategic") and not parent:
            self._big_accounts = [*self._big_accounts[-9:], (account_id, name, domain, industry)]
        existing_customer = rng.random() < 0.35
        contacts = self._contacts(out, account_id, owner, domain, place)
        deals, won, churned = self._deals(out, account_id, owner, name, tier, existing_customer,
                                          contacts)
        self._activities(out, account_id, owner, tier, contacts, deals)
        if churned and not won:
            lifecycle = "former"
        elif existing_customer or won:
            lifecycle = "customer"
        else:
            lifecycle = "prospect"
        revenue = employees * int(rng.lognormvariate(12.1, 0.5))  # ~$180k per head
        revenue = revenue // 1000 * 1000
        potential = int(revenue * rng.uniform(0.001, 0.006)) // 100 * 100
        created = grid.at(-HISTORY_DAYS - self.ri(30, 1100), self.ri(480, 1050))
        out.accounts.append((
            account_id, created, created, 1, name, search_key(name), domain,
            f"https://www.{domain}", industry, employees, Decimal(revenue),
            f"{self.ri(100, 9999)} {self.pick(N.STREETS)} {self.pick(N.STREET_SUFFIXES)}",
            place.city, place.zip_code, place.state, place.county, "US",
            Decimal(f"{place.latitude:.6f}"), Decimal(f"{place.longitude:.6f}"),
            parent_id, owner, tier, lifecycle, Decimal(potential), "USD",
        ))
        return {"id": account_id, "owner": owner, "name": name, "domain": domain,
                "industry": industry, "employees": employees, "place": place,
                "contact": contacts[0] if contacts else None,
                "deal": next((d.id for d in deals if d.product), None)}

    def _contacts(self, out: Chunk, account_id: int, owner: int, domain: str,
                  place: Place) -> list[tuple[int, str]]:
        rng, ids = self.rng, self.ids
        made = []
        created = self.grid.at(-HISTORY_DAYS - self.ri(0, 400), self.ri(480, 1050))
        for n in range(self.ri(2, 4)):
            first, last = self.pick(N.FIRST_NAMES), self.pick(N.LAST_NAMES)
            role = self.pick(("decision_maker", "economic_buyer")) if n == 0 else \
                self.pick(BUYING_ROLES)
            contact_id = ids.contact
            ids.contact += 1
            out.contacts.append((
                contact_id, created, created, 1, first, last, search_key(last, first),
                self.pick(N.TITLES_BY_ROLE[role]), f"{first}.{last}@{domain}".lower(), "",
                f"({place.area_code}) 555-{self.ri(100, 199):04d}",
                f"({place.area_code}) 555-{self.ri(100, 199):04d}" if rng.random() < 0.5
                else "", account_id, role, rng.random() < 0.02, owner,
            ))
            made.append((contact_id, first))
        return made

    # -- deals and their history -----------------------------------------------------

    def _deals(self, out: Chunk, account_id: int, owner: int, account_name: str, tier: str,
               existing_customer: bool, contacts: list) -> tuple[list[Deal], bool, bool]:
        low, high = DEALS_PER_ACCOUNT[tier]
        deals, any_won, any_churned = [], False, False
        for _ in range(self.ri(low, high)):
            if existing_customer:
                kind = self.weighted(("new_business", "renewal", "upsell"), (45, 35, 20))
            else:
                kind = "new_business"
            deal, won = self._deal(out, account_id, owner, account_name, tier,
                                   self.pipelines[kind], contacts)
            deals.append(deal)
            any_won |= won
            any_churned |= kind == "renewal" and not won and not deal.is_open
        return deals, any_won, any_churned

    def _deal(self, out: Chunk, account_id: int, owner: int, account_name: str, tier: str,
              pipeline: PipelineInfo, contacts: list) -> tuple[Deal, bool]:
        rng, grid, ids = self.rng, self.grid, self.ids
        amount = max(500, int(MEDIAN_AMOUNT[tier] * rng.lognormvariate(0, 0.8)) // 100 * 100)
        close = self._close_days[bisect.bisect(self._close_cum,
                                               rng.random() * self._close_cum[-1])]
        size_factor = (amount / MEDIAN_AMOUNT[tier]) ** 0.25
        cycle = max(7, int(MEDIAN_CYCLE_DAYS[tier] * rng.lognormvariate(0, 0.45) * size_factor))
        start = grid.workday(min(close - cycle, -1 - self.ri(0, 20)))
        is_open = close > 0
        opens = pipeline.open_stages
        if is_open:
            progress = (0 - start) / max(1, close - start)
            reached = min(len(opens) - 1, int(progress * len(opens) + rng.random() * 0.8))
            path = [s for s, _ in opens[: reached + 1]]
            final_stage, probability = opens[reached]
            status, won, last_day = "open", False, -1
        elif rng.random() < WIN_RATE[pipeline.kind]:
            path = [s for s, _ in opens] + [pipeline.won]
            final_stage, probability, status, won = pipeline.won, 100, "won", True
            last_day = close
        else:
            reached = self.weighted(range(len(opens)), (3, 3, 2, 2, 1)[: len(opens)])
            path = [s for s, _ in opens[: reached + 1]] + [pipeline.lost]
            final_stage, probability, status, won = pipeline.lost, 0, "lost", False
            last_day = close
        deal_id = ids.opportunity
        ids.opportunity += 1
        times = self._step_times(start, last_day, len(path) - 1, closes=not is_open)
        changes = out.changes
        previous = None
        for stage_id, when in zip(path, times, strict=False):
            changes.append((ids.change, deal_id, "stage", previous, stage_id, None, None,
                            None, None, when, owner))
            ids.change += 1
            previous = stage_id
        final_amount = Decimal(amount)
        if rng.random() < 0.2:  # re-scoped: the amount was changed once
            first_amount = Decimal(max(500, int(amount * rng.uniform(0.6, 1.4)) // 100 * 100))
            changes.append((ids.change, deal_id, "amount", None, None, first_amount,
                            final_amount, None, None, self._between(start, last_day), owner))
            ids.change += 1
        if rng.random() < 0.25:  # slipped: the close date moved out once or twice
            current = close
            for _ in range(self.ri(1, 2)):
                earlier = current - self.ri(10, 45)
                changes.append((ids.change, deal_id, "close_date", None, None, None, None,
                                grid.dates.get(earlier) or grid.dates[grid.first],
                                grid.dates[current],
                                self._between(start, min(last_day, max(start, earlier))), owner))
                ids.change += 1
                current = earlier
        contact = self.pick(contacts)[0] if contacts and rng.random() < 0.85 else None
        product = self.pick(N.PRODUCTS)
        fiscal_year = grid.dates[close].year + (grid.dates[close].month >= 2)
        name = {"new_business": f"{account_name} – {product}",
                "renewal": f"{account_name} – {product} renewal FY{fiscal_year}",
                "upsell": f"{account_name} – {product} expansion"}[pipeline.kind][:200]
        if is_open:
            category = "commit" if probability >= 75 else (
                "best_case" if probability >= 50 else "pipeline")
            next_step = self.pick(N.NEXT_STEPS) if rng.random() < 0.85 else ""
        else:
            category, next_step = ("closed" if won else "omitted"), ""
        closed_at = times[-1] if not is_open else None
        out.opportunities.append((
            deal_id, times[0], max(times), len(times), name, search_key(name), account_id,
            contact, pipeline.id, final_stage, status, final_amount, "USD", grid.dates[close],
            probability, category, next_step,
            self.pick(N.LOST_REASONS) if status == "lost" else "", owner, closed_at,
        ))
        return Deal(deal_id, contact, start, close, is_open, product), won

    def _step_times(self, start: int, last_day: int, steps: int, closes: bool) -> list:
        """When the deal was created and entered each later stage: working days spread
        over the cycle, in order; a closed deal's last step is its close date."""
        grid = self.grid
        days = sorted(grid.workday(self.ri(start, last_day))
                      for _ in range(steps - 1 if closes else steps))
        if closes and steps:
            days.append(last_day)
        times = [grid.at(start, self.ri(480, 900))]
        minute = timedelta(minutes=1)
        for day in days:
            times.append(max(grid.at(max(day, start), self.ri(480, 1050)),
                             times[-1] + minute))
        return times

    def _between(self, first_day: int, last_day: int) -> datetime:
        day = self.grid.workday(self.ri(first_day, max(first_day, last_day)))
        return self.grid.at(max(day, first_day), self.ri(480, 1050))

    # -- activities ------------------------------------------------------------------

    def _activities(self, out: Chunk, account_id: int, owner: int, tier: str,
                    contacts: list, deals: list[Deal]) -> None:
        rng = self.rng
        for _ in range(self.ri(5, 11) + ACTIVITY_BONUS[tier]):
            day = self.ri(-HISTORY_DAYS, 20)
            deal = None
            if rng.random() < 0.75:
                for candidate in deals:
                    if candidate.start <= day <= candidate.end:
                        deal = candidate
                        break
            contact = (deal.contact_id if deal and deal.contact_id else
                       self.pick(contacts)[0] if contacts and rng.random() < 0.8 else None)
            first_name = next((f for c, f in contacts if c == contact), "")
            out.activities.append(self.activity(
                owner, day, account_id=account_id, contact_id=contact, first_name=first_name,
                deal_id=deal.id if deal else None, product=deal.product if deal else ""))

    def activity(self, owner: int, day: int, *, account_id=None, contact_id=None,
                 first_name="", deal_id=None, product="", lead_id=None,
                 overdue_ok: bool = True, force_open: bool = False) -> tuple:
        """One activity row on day `day`: past ones mostly done with an outcome, a few
        overdue; today's and future ones open."""
        rng, grid = self.rng, self.grid
        if day != 0:
            day = grid.workday(day)
        kind = self.weighted(("call", "meeting", "email", "task", "note"), (35, 20, 25, 12, 8))
        if kind == "note" and day >= 0:
            kind = "task"
        minute = WORKDAY_START + 15 * self.ri(0, WORKDAY_MINUTES // 15 - 1)
        due = grid.at(day, minute)
        is_open = force_open or day >= 0 or (
            overdue_ok and day > -30 and kind != "meeting" and rng.random() < 0.06)
        outcome, description, duration = "", "", 0
        if kind == "call":
            subject = self.pick(N.CALL_SUBJECTS)
            duration = self.pick((10, 15, 15, 20, 30))
            if not is_open:
                outcome = self.weighted(("connected", "left_message", "no_answer"), (45, 35, 20))
        elif kind == "meeting":
            subject = self.pick(N.MEETING_SUBJECTS)
            duration = self.pick((30, 60, 60, 90, 120))
            if not is_open:
                outcome = self.weighted(("positive", "neutral", "negative"), (50, 35, 15))
                if rng.random() < 0.6:
                    description = self.pick(N.MEETING_NOTES)
        elif kind == "email":
            subject = self.pick(N.EMAIL_SUBJECTS)
        elif kind == "task":
            subject = self.pick(N.TASK_SUBJECTS)
            duration = self.pick((0, 15, 30))
        else:
            subject = self.pick(N.NOTE_SUBJECTS)
            description = self.pick(N.MEETING_NOTES)
        if first_name and kind in ("call", "meeting"):
            subject = f"{subject} with {first_name}"
        if product:
            subject = f"{subject}: {product}"
        if is_open:  # planned some days ahead, never after the start of today
            created = min(grid.at(min(day, 0) - self.ri(1, 10), WORKDAY_START),
                          self.start_of_today)
        else:
            created = due
        done_at = None if is_open else due + timedelta(minutes=duration)
        activity_id = self.ids.activity
        self.ids.activity += 1
        return (activity_id, created, done_at or created, 1, kind, subject[:200], description,
                due, duration, outcome, not is_open, done_at, owner, account_id, contact_id,
                deal_id, lead_id)

    # -- leads -------------------------------------------------------------------------

    def _leads(self, out: Chunk, count: int, accounts: list[dict]) -> None:
        rng, grid, ids = self.rng, self.grid, self.ids
        for _ in range(count):
            status = self.weighted(LEAD_STATUSES, LEAD_STATUS_WEIGHTS)
            source = self.weighted(LEAD_SOURCES, LEAD_SOURCE_WEIGHTS)
            first, last = self.pick(N.FIRST_NAMES), self.pick(N.LAST_NAMES)
            lead_id = ids.lead
            ids.lead += 1
            day = -self.ri(0, 30) if status == "new" else -self.ri(5, HISTORY_DAYS)
            created = grid.at(grid.workday(day), self.ri(480, 1050))
            converted = None
            if status == "converted" and accounts:
                converted = self.pick(accounts)
                place, owner = converted["place"], converted["owner"]
                company, domain = converted["name"], converted["domain"]
                industry, employees = converted["industry"], converted["employees"]
            else:
                place = self.pick(self.places)
                owner = self.pick(self.reps_by_team[TEAM_OF_STATE[place.state]])
                company, trade = self._company_name()
                domain = re.sub(r"[^a-z0-9]", "", company.lower())[:40] + ".com"
                industry = N.TRADE_INDUSTRY.get(trade) or self.pick(N.INDUSTRIES)
                employees = int(5 * (2000 / 5) ** rng.random())
                if status == "converted":
                    status = "qualified"
            role = self.pick(BUYING_ROLES)
            out.leads.append((
                lead_id, created, created, 1, first, last, search_key(last, first),
                self.pick(N.TITLES_BY_ROLE[role]), f"{first}.{last}@{domain}".lower(),
                f"({place.area_code}) 555-{self.ri(100, 199):04d}", company,
                f"https://www.{domain}", industry, employees, place.city, place.state,
                place.zip_code, "US", source, self.pick(N.LEAD_CAMPAIGNS[source]), status,
                owner,
                min(created + timedelta(days=self.ri(3, 40)), self.start_of_today)
                if converted else None,
                converted["id"] if converted else None,
                converted["contact"][0] if converted and converted["contact"] else None,
                converted["deal"] if converted else None,
            ))
            if status in ("working", "nurturing"):
                for _ in range(self.ri(1, 3)):
                    out.activities.append(self.activity(
                        owner, self.ri(day, 10), lead_id=lead_id, first_name=first))
