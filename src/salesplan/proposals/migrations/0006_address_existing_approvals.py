"""Existing approvals named a level, not a person. A step still waiting is addressed to
the person who must sign it now (the quote owner's manager; the manager above for a
director's step; nobody — any administrator — past the chain or for an admin's step); a
step already decided is addressed to whoever decided it."""

from django.db import migrations
from django.db.models import F

LEVEL_INDEX = {"manager": 0, "director": 1}


def _chain(user, teams, active):
    chain, seen = [], set()
    team = teams.get(user.team_id)
    while team is not None and team.pk not in seen:
        seen.add(team.pk)
        manager_id = team.manager_id
        if manager_id and manager_id != user.pk and manager_id not in chain \
                and manager_id in active:
            chain.append(manager_id)
        team = teams.get(team.parent_id)
    return chain


def address(apps, schema_editor):
    approval_model = apps.get_model("proposals", "Approval")
    team_model = apps.get_model("org", "Team")
    user_model = apps.get_model("org", "User")
    teams = team_model.objects.in_bulk()
    active = set(user_model.objects.filter(is_active=True).values_list("pk", flat=True))
    approval_model.objects.filter(assignee__isnull=True, decided_by__isnull=False).exclude(
        status="pending").update(assignee=F("decided_by"))
    chains = {}
    for approval in approval_model.objects.filter(status="pending").select_related(
            "quote_version__quote__owner"):
        owner = approval.quote_version.quote.owner
        if owner.pk not in chains:
            chains[owner.pk] = _chain(owner, teams, active)
        index = LEVEL_INDEX.get(approval.approver)
        chain = chains[owner.pk]
        if index is not None and index < len(chain):
            approval.assignee_id = chain[index]
            approval.save(update_fields=["assignee"])


class Migration(migrations.Migration):
    dependencies = [("proposals", "0005_approvals_addressed_to_people"),
                    ("org", "0001_initial")]

    operations = [migrations.RunPython(address, migrations.RunPython.noop)]
