"""The approval matrix a new installation starts with: a rep quotes up to 10% off list
alone; above 10% their manager approves; above 20% the manager of the team above approves
too; a line under its floor price or minimum margin needs the manager. Admins edit it."""

from decimal import Decimal

from django.db import migrations

DEFAULT_RULES = [
    ("Discount above 10%", "discount", Decimal("10"), "manager", 1),
    ("Discount above 20%", "discount", Decimal("20"), "director", 2),
    ("Below floor or minimum margin", "floor", Decimal("0"), "manager", 1),
]


def create_rules(apps, schema_editor):
    rule = apps.get_model("proposals", "ApprovalRule")
    if rule.objects.exists():
        return
    rule.objects.bulk_create(
        rule(name=name, metric=metric, threshold_pct=threshold, approver=approver, step=step)
        for name, metric, threshold, approver, step in DEFAULT_RULES)


class Migration(migrations.Migration):
    dependencies = [("proposals", "0001_initial")]

    operations = [migrations.RunPython(create_rules, migrations.RunPython.noop)]
