"""Build the demo company: `build_demo(seed=…, accounts=…)` is what `salesplan demo` runs."""

import gc
import importlib
import multiprocessing
import random
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from salesplan.activities.models import Activity
from salesplan.customers.models import Account, Contact, Lead
from salesplan.org.models import Team, User
from salesplan.pipeline.models import Opportunity, OpportunityChange, Pipeline, StageKind

from . import loader
from .calendar import DayGrid, us_holidays
from .generate import (
    HISTORY_DAYS,
    HORIZON_DAYS,
    Chunk,
    CompanyGenerator,
    IdCounters,
    PipelineInfo,
)
from .geography import places
from .org import FISCAL_YEAR_START_MONTH, TIME_ZONE, DemoOrg, build_org, set_up_company
from .territories_and_plan import build_territories_and_plan

ACCOUNT_FIELDS = (
    "id", "created_at", "updated_at", "version", "name", "name_key", "domain", "website",
    "industry", "employees", "annual_revenue", "street", "city", "postal_code", "state",
    "county", "country", "latitude", "longitude", "parent", "owner", "tier", "lifecycle",
    "potential", "currency")
CONTACT_FIELDS = (
    "id", "created_at", "updated_at", "version", "first_name", "last_name", "name_key",
    "title", "email", "email_secondary", "phone", "mobile", "account", "buying_role",
    "do_not_contact", "owner")
LEAD_FIELDS = (
    "id", "created_at", "updated_at", "version", "first_name", "last_name", "name_key",
    "title", "email", "phone", "company", "website", "industry", "employees", "city", "state",
    "postal_code", "country", "source", "campaign", "status", "owner", "converted_at",
    "converted_account", "converted_contact", "converted_opportunity")
OPPORTUNITY_FIELDS = (
    "id", "created_at", "updated_at", "version", "name", "name_key", "account", "contact",
    "pipeline", "stage", "status", "amount", "currency", "close_date", "probability",
    "forecast_category", "next_step", "lost_reason", "owner", "closed_at")
CHANGE_FIELDS = (
    "id", "opportunity", "field", "from_stage", "to_stage", "from_amount", "to_amount",
    "from_close_date", "to_close_date", "changed_at", "changed_by")
ACTIVITY_FIELDS = (
    "id", "created_at", "updated_at", "version", "kind", "subject", "description", "due_at",
    "duration_minutes", "outcome", "done", "done_at", "owner", "account", "contact",
    "opportunity", "lead")

CHUNK_ACCOUNTS = 5_000
# What --reset wipes: the CRM records, the organisation, and everything pointing at them.
WIPED_MODELS = ("activities.Activity", "pipeline.OpportunityChange", "pipeline.Opportunity",
                "customers.Lead", "customers.Contact", "customers.Account", "core.AuditEntry",
                "org.Holiday", "org.User", "org.Team")


class DemoRefused(Exception):
    """The database already holds data and no reset was asked for."""


@dataclass
class DemoResult:
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    logins: list[tuple[str, str]] = field(default_factory=list)
    total_seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process only (not a generating child process)


# Later sections of the demo, in order (a catalogue before quotes that use it). Each is a
# module of this package with build(org, *, accounts, today, rng, log), working through
# the services like a user would.
DEMO_SECTIONS: list[str] = [
    "pricing", "proposals", "marketing", "scoring", "forecasting", "quality", "reports"]


# Apps whose every row the demo sections build, so --reset wipes them whole (the rows
# that point at users or accounts would go anyway; catalogues and policies would not).
SECTION_APPS = ("pricing", "proposals", "marketing", "scoring", "collab", "forecasting",
                "health", "quality", "reports", "planning", "territories")


def section_models() -> tuple[str, ...]:
    from django.apps import apps

    return tuple(model._meta.label for app in SECTION_APPS
                 for model in apps.get_app_config(app).get_models())


def existing_data() -> dict[str, int]:
    counts = {"accounts": Account.objects.count(), "users": User.objects.count(),
              "teams": Team.objects.count()}
    return {k: v for k, v in counts.items() if v}


def build_demo(*, seed: int = 1, accounts: int = 3_000, reset: bool = False,
               today: date | None = None, log: Callable[[str], None] = lambda s: None,
               chunk_accounts: int = CHUNK_ACCOUNTS, parallel: bool = True) -> DemoResult:
    """Build the demo company; deterministic for a seed and a date. With `parallel`, rows
    are generated in a forked process while this one inserts (same rows, same order)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    result = DemoResult()
    if reset:
        with transaction.atomic():
            deleted = loader.wipe(WIPED_MODELS + section_models())
        log(f"Wiped {sum(deleted.values()):,} rows.")
    elif found := existing_data():
        described = ", ".join(f"{n:,} {what}" for what, n in found.items())
        raise DemoRefused(f"The database is not empty ({described}). Run `salesplan demo "
                          f"--reset` to wipe it and build the demo company.")
    tz = ZoneInfo(TIME_ZONE)
    today = today or timezone.now().astimezone(tz).date()
    rng = random.Random(seed)
    with transaction.atomic():
        company = set_up_company(today)
        org = build_org(rng, company)
    result.logins = org.logins
    grid = _day_grid(today, tz)
    pipelines = _pipelines()
    reps = {team: [r.pk for r in members] for team, members in org.reps_by_team.items()}
    generator = CompanyGenerator(rng, grid, places(), reps, pipelines,
                                 FISCAL_YEAR_START_MONTH, _id_counters())
    sizes = [min(chunk_accounts, accounts - done) for done in range(0, accounts, chunk_accounts)]
    with loader.fast_load(), _no_cyclic_gc():
        if parallel and len(sizes) > 2 and "fork" in multiprocessing.get_all_start_methods():
            chunks = _chunks_in_child_process(generator, sizes, result)
        else:
            chunks = _chunks_here(generator, sizes, result)
        _load(chunks, accounts, result, log)
        # Fresh randomness and ids from the database: the same whichever way chunks came.
        day_planner = CompanyGenerator(random.Random(seed + 1), grid, places(), reps,
                                       pipelines, FISCAL_YEAR_START_MONTH, _id_counters())
        _plan_everyones_day(day_planner, org, result)
        loader.reset_sequences([Account, Contact, Lead, Opportunity, OpportunityChange,
                                Activity])
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            # Fresh statistics so SQLite picks the right indexes; sampled, so it takes
            # seconds rather than a full scan of every index of a million-account database.
            cursor.execute("PRAGMA analysis_limit=2000")
            cursor.execute("ANALYZE")
    started_territories = time.perf_counter()
    build_territories_and_plan(org, accounts=accounts, today=today, log=log)
    result.seconds["territories and plan"] = time.perf_counter() - started_territories
    for section in DEMO_SECTIONS:
        started_section = time.perf_counter()
        module = importlib.import_module(f"salesplan.demo.{section}")
        module.build(org, accounts=accounts, today=today, rng=random.Random(seed + 7), log=log)
        result.seconds[section] = time.perf_counter() - started_section
    result.counts["users"] = User.objects.count()
    result.total_seconds = time.perf_counter() - started
    result.cpu_seconds = time.process_time() - cpu_started
    return result


@contextmanager
def _no_cyclic_gc():
    """The generator allocates millions of small tuples and no reference cycles; the
    cyclic collector would otherwise spend a third of the time scanning them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _day_grid(today: date, tz: ZoneInfo) -> DayGrid:
    holidays = {d for year in range(today.year - 6, today.year + 2) for d, _ in us_holidays(year)}
    return DayGrid(today, tz, first=-HISTORY_DAYS - 1300, last=HORIZON_DAYS + 40,
                   holidays=holidays, working_weekdays={0, 1, 2, 3, 4})


def _pipelines() -> dict[str, PipelineInfo]:
    """The three pipelines migration pipeline/0002 creates, by kind."""
    found = {}
    for pipeline in Pipeline.objects.prefetch_related("stages"):
        stages = sorted(pipeline.stages.all(), key=lambda s: s.position)
        opens = tuple((s.pk, s.probability) for s in stages if s.kind == StageKind.OPEN)
        won = [s.pk for s in stages if s.kind == StageKind.WON]
        lost = [s.pk for s in stages if s.kind == StageKind.LOST]
        if pipeline.kind not in found and opens and won and lost:
            found[pipeline.kind] = PipelineInfo(pipeline.pk, pipeline.kind, opens, won[0],
                                                lost[0])
    missing = {"new_business", "renewal", "upsell"} - set(found)
    if missing:
        raise DemoRefused("The demo needs the New business, Renewal and Upsell pipelines "
                          "(created by `salesplan migrate`); missing: "
                          f"{', '.join(sorted(missing))}.")
    return found


def _id_counters() -> IdCounters:
    return IdCounters(
        account=loader.next_id(Account), contact=loader.next_id(Contact),
        lead=loader.next_id(Lead), opportunity=loader.next_id(Opportunity),
        change=loader.next_id(OpportunityChange), activity=loader.next_id(Activity))


def _writers() -> dict[str, loader.TableWriter]:
    return {
        "accounts": loader.TableWriter(Account, ACCOUNT_FIELDS),
        "contacts": loader.TableWriter(Contact, CONTACT_FIELDS),
        "opportunities": loader.TableWriter(Opportunity, OPPORTUNITY_FIELDS),
        "changes": loader.TableWriter(OpportunityChange, CHANGE_FIELDS),
        "leads": loader.TableWriter(Lead, LEAD_FIELDS),
        "activities": loader.TableWriter(Activity, ACTIVITY_FIELDS),
    }


def _leads_for(size: int) -> int:
    return max(1, round(size / 10))


def _chunks_here(generator: CompanyGenerator, sizes: list[int],
                 result: DemoResult) -> Iterator[Chunk]:
    for size in sizes:
        started = time.perf_counter()
        chunk = generator.chunk(size, _leads_for(size))
        result.seconds["generate rows"] = (result.seconds.get("generate rows", 0.0)
                                           + time.perf_counter() - started)
        yield chunk


def _produce(generator: CompanyGenerator, sizes: list[int], queue) -> None:
    """Child process: generate every chunk in order and hand it over (never touches the
    database; the parent does all writing)."""
    try:
        for size in sizes:
            queue.put(generator.chunk(size, _leads_for(size)))
    except BaseException:  # report any failure to the parent instead of hanging it
        queue.put(traceback.format_exc())


def _chunks_in_child_process(generator: CompanyGenerator, sizes: list[int],
                             result: DemoResult) -> Iterator[Chunk]:
    """Generate in a forked child while this process inserts: two cores instead of one.
    The queue holds at most two chunks, so memory stays bounded."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue(maxsize=2)
    child = context.Process(target=_produce, args=(generator, sizes, queue), daemon=True)
    child.start()
    try:
        for _ in sizes:
            started = time.perf_counter()
            chunk = queue.get()
            result.seconds["wait for generated rows"] = (
                result.seconds.get("wait for generated rows", 0.0) + time.perf_counter() - started)
            if isinstance(chunk, str):
                raise RuntimeError(f"Generating the demo data failed:\n{chunk}")
            yield chunk
    finally:
        if child.is_alive():
            child.terminate()
        child.join()


def _load(chunks: Iterable[Chunk], accounts: int, result: DemoResult,
          log: Callable[[str], None]) -> None:
    """Insert chunk by chunk, one transaction per chunk."""
    writers = _writers()
    done = 0
    last_report = time.perf_counter()
    for chunk in chunks:
        with transaction.atomic():
            for name, writer in writers.items():
                started = time.perf_counter()
                writer.write(getattr(chunk, name))
                result.seconds[f"insert {name}"] = (result.seconds.get(f"insert {name}", 0.0)
                                                    + time.perf_counter() - started)
        done += len(chunk.accounts)
        if time.perf_counter() - last_report > 30 or done == accounts:
            last_report = time.perf_counter()
            log(f"  {done:,} / {accounts:,} accounts")
    for name, writer in writers.items():
        result.counts[name] = writer.count


def _plan_everyones_day(generator: CompanyGenerator, org: DemoOrg, result: DemoResult) -> None:
    """Make "My day" meaningful for every rep on the day the demo is built: a few
    activities due today and a few overdue, on the rep's own accounts."""
    rng, rows = generator.rng, []
    for rep in org.reps:
        accounts = list(Account.objects.filter(owner=rep).order_by("id")
                        .values_list("id", flat=True)[:8])
        if not accounts:
            continue
        contacts = {c.account_id: (c.pk, c.first_name) for c in
                    Contact.objects.filter(account_id__in=accounts).order_by("id")}
        for day in [0] * rng.randint(3, 5) + [-rng.randint(1, 7) for _ in range(rng.randint(2, 3))]:
            account = rng.choice(accounts)
            contact_id, first_name = contacts.get(account, (None, ""))
            rows.append(generator.activity(
                rep.pk, day, account_id=account, contact_id=contact_id, first_name=first_name,
                force_open=True))
    with transaction.atomic():
        loader.TableWriter(Activity, ACTIVITY_FIELDS).write(rows)
    result.counts["activities"] = result.counts.get("activities", 0) + len(rows)


def describe(result: DemoResult) -> list[str]:
    """Lines for the console: counts, time per entity, total, and the logins."""
    lines = ["", "Rows:"]
    lines += [f"  {name:<14} {count:>12,}" for name, count in result.counts.items()]
    lines += ["", "Time:"]
    lines += [f"  {name:<22} {seconds:>8.1f} s" for name, seconds in result.seconds.items()]
    rate = result.counts.get("accounts", 0) / result.total_seconds if result.total_seconds else 0
    lines += [f"  {'total':<22} {result.total_seconds:>8.1f} s  ({rate:,.0f} accounts/s; "
              f"{result.cpu_seconds:.1f} s CPU in this process)", "",
              "Logins (password: demo):"]
    lines += [f"  {username:<26} {what}" for username, what in result.logins]
    return lines

