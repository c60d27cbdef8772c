"""Small builders for test data. Each returns a saved record with sensible defaults."""

import itertools
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from salesplan.activities.models import Activity
from salesplan.core.clock import company_today
from salesplan.customers.models import Account, Contact, Lead
from salesplan.org.models import Role, Team, User
from salesplan.pipeline.models import Opportunity, Pipeline

_seq = itertools.count(1)
PASSWORD = "correct-horse-battery"


def make_team(name: str | None = None, parent: Team | None = None, manager: User | None = None):
    return Team.objects.create(name=name or f"Team {next(_seq)}", parent=parent, manager=manager)


def make_user(role: str = Role.REP, team: Team | None = None, username: str | None = None,
              **extra) -> User:
    n = next(_seq)
    username = username or f"{role}{n}"
    user = User.objects.create_user(
        username=username, email=f"{username}@example.com", password=PASSWORD, role=role,
        team=team, first_name=extra.pop("first_name", role.title()),
        last_name=extra.pop("last_name", str(n)), **extra)
    return user


def make_account(owner: User, **fields) -> Account:
    n = next(_seq)
    fields.setdefault("name", f"Account {n}")
    fields.setdefault("domain", f"account{n}.example.com")
    fields.setdefault("state", "CA")
    fields.setdefault("city", "San Jose")
    fields.setdefault("postal_code", "95112")
    return Account.objects.create(owner=owner, **fields)


def make_contact(owner: User, account: Account | None = None, **fields) -> Contact:
    n = next(_seq)
    fields.setdefault("first_name", "Pat")
    fields.setdefault("last_name", f"Contact{n}")
    fields.setdefault("email", f"pat{n}@example.com")
    return Contact.objects.create(owner=owner, account=account, **fields)


def make_lead(owner: User, **fields) -> Lead:
    n = next(_seq)
    fields.setdefault("first_name", "Lee")
    fields.setdefault("last_name", f"Lead{n}")
    fields.setdefault("email", f"lee{n}@lead{n}.example.org")
    fields.setdefault("company", f"Lead Company {n}")
    return Lead.objects.create(owner=owner, **fields)


def make_opportunity(owner: User, account: Account | None = None, stage_position: int = 0,
                     **fields) -> Opportunity:
    pipeline = fields.pop("pipeline", None) or Pipeline.objects.get(is_default=True)
    stage = pipeline.stages.get(position=stage_position)
    account = account or make_account(owner)
    fields.setdefault("name", f"Deal {next(_seq)}")
    fields.setdefault("amount", Decimal("10000.00"))
    fields.setdefault("close_date", company_today() + timedelta(days=30))
    return Opportunity.objects.create(owner=owner, account=account, pipeline=pipeline,
                                      stage=stage, status=stage.kind,
                                      probability=stage.probability, **fields)


def make_activity(owner: User, account: Account | None = None, **fields) -> Activity:
    fields.setdefault("kind", "call")
    fields.setdefault("subject", f"Call {next(_seq)}")
    fields.setdefault("due_at", timezone.now())
    return Activity.objects.create(owner=owner, account=account, **fields)


def give_territory_account(rep: User, account: Account):
    """An active alignment whose one territory the rep works, holding `account` (usually
    another team's): the rep then sees the account's records through the territory."""
    from salesplan.territories.models import (
        AccountTerritory,
        Alignment,
        Territory,
        TerritoryMember,
    )

    alignment = Alignment.objects.create(name="FY", status=Alignment.Status.ACTIVE)
    territory = Territory.objects.create(alignment=alignment, name="West")
    TerritoryMember.objects.create(territory=territory, user=rep, start_date=company_today())
    AccountTerritory.objects.create(account=account, alignment=alignment,
                                    territory=territory, type=territory.type, reason="test")
    return territory
