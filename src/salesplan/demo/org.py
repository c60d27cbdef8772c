"""The demo company's settings and sales organisation: VP, four regions, eight teams."""

import random
from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth.hashers import make_password

from salesplan.org.models import Company, Holiday, Role, Team, User
from salesplan.org.selectors import bump_team_tree_version

from .calendar import us_holidays
from .geography import REGIONS
from .names import FIRST_NAMES, LAST_NAMES

COMPANY_NAME = "Northwind Industrial Supply"
EMAIL_DOMAIN = "northwind.example"
DEMO_PASSWORD = "demo"  # noqa: S105 - a published demo login, never a real one
FISCAL_YEAR_START_MONTH = 2
TIME_ZONE = "America/Chicago"


@dataclass
class DemoOrg:
    """Who is who in the demo, as the generator needs it."""

    company: Company
    reps_by_team: dict[str, list[User]] = field(default_factory=dict)
    logins: list[tuple[str, str]] = field(default_factory=list)  # (username, what they are)

    @property
    def reps(self) -> list[User]:
        return [rep for reps in self.reps_by_team.values() for rep in reps]


def set_up_company(today: date) -> Company:
    """Name, currency, fiscal year, time zone, working days, and US holidays for the two
    years of history and the year ahead."""
    company = Company.current()
    company.name = COMPANY_NAME
    company.default_currency = "USD"
    company.fiscal_year_start_month = FISCAL_YEAR_START_MONTH
    company.time_zone = TIME_ZONE
    company.working_days = "0,1,2,3,4"
    company.save()
    company.holidays.all().delete()
    Holiday.objects.bulk_create(
        Holiday(company=company, date=day, name=name)
        for year in range(today.year - 3, today.year + 2)
        for day, name in us_holidays(year)
    )
    return company


def build_org(rng: random.Random, company: Company) -> DemoOrg:
    """Create the teams and users. Team leads manage the eight teams, regional managers the
    four regions, the VP the whole sales team; 4–6 reps per team."""
    org = DemoOrg(company=company)
    password = make_password(DEMO_PASSWORD)  # hashed once: argon2 per user is slow

    def person(username, role, team, title, first=None, last=None):
        first = first or rng.choice(FIRST_NAMES)
        last = last or rng.choice(LAST_NAMES)
        user = User.objects.create(
            username=username, password=password, role=role, team=team, title=title,
            first_name=first, last_name=last, email=f"{username}@{EMAIL_DOMAIN}",
            is_staff=role == Role.ADMIN, is_superuser=role == Role.ADMIN)
        return user

    sales = Team.objects.create(name="Sales")
    admin = person("admin", Role.ADMIN, sales, "Sales operations", "Alex", "Admin")
    vp = person("vp", Role.MANAGER, sales, "VP Sales")
    sales.manager = vp
    sales.save()
    person("marketing", Role.MARKETING, sales, "Marketing manager")
    person("ceo", Role.EXECUTIVE, sales, "Chief executive")
    org.logins += [(admin.username, "admin"), ("vp", "VP of sales, sees everything in sales"),
                   ("marketing", "marketing"), ("ceo", "executive (read-only)")]
    taken: set[str] = {"admin", "vp", "marketing", "ceo"}
    for region, teams in REGIONS.items():
        region_team = Team.objects.create(name=f"{region} region", parent=sales)
        manager = person(f"manager.{region.lower()}", Role.MANAGER, region_team,
                         f"Regional sales manager, {region}")
        region_team.manager = manager
        region_team.save()
        org.logins.append((manager.username, f"manager of the {region} region"))
        for team_name in teams:
            team = Team.objects.create(name=team_name, parent=region_team)
            slug = team_name.lower().replace(" & ", "-").replace(" ", "-")
            lead = person(f"lead.{slug}", Role.MANAGER, team, f"Team lead, {team_name}")
            team.manager = lead
            team.save()
            org.logins.append((lead.username, f"team lead, {team_name}"))
            org.reps_by_team[team_name] = [
                _rep(rng, person, team, team_name, taken) for _ in range(rng.randint(4, 6))
            ]
    first_team, first_reps = next(iter(org.reps_by_team.items()))
    org.logins.append((first_reps[0].username, f"sales rep, {first_team} "
                                               f"(and {len(org.reps) - 1} other reps)"))
    bump_team_tree_version()
    return org


def _rep(rng, person, team, team_name, taken: set[str]) -> User:
    while True:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        username = f"{first}.{last}".lower()
        if username not in taken:
            taken.add(username)
            return person(username, Role.REP, team, f"Account executive, {team_name}",
                          first, last)
