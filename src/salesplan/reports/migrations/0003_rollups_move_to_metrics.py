"""The rollups move to the metrics app, the one copy plan vs actual, forecasts and
reports read: their tables are renamed to the metrics app's names (keeping their rows
and indexes), then forgotten here; `metrics.0001_initial` takes them over."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0002_versions"),
    ]

    operations = [
        migrations.AlterModelTable(name="ActivityLine", table="metrics_activityline"),
        migrations.AlterModelTable(name="LeadLine", table="metrics_leadline"),
        migrations.AlterModelTable(name="OpportunityLine", table="metrics_opportunityline"),
        migrations.AlterModelTable(name="RollupState", table="metrics_rollupstate"),
        migrations.AlterModelTable(name="ActivityFact", table="metrics_activityfact"),
        migrations.AlterModelTable(name="LeadFact", table="metrics_leadfact"),
        migrations.AlterModelTable(name="OpportunityFact", table="metrics_opportunityfact"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="ActivityLine"),
                migrations.DeleteModel(name="LeadLine"),
                migrations.DeleteModel(name="OpportunityLine"),
                migrations.DeleteModel(name="RollupState"),
                migrations.DeleteModel(name="ActivityFact"),
                migrations.DeleteModel(name="LeadFact"),
                migrations.DeleteModel(name="OpportunityFact"),
            ],
            database_operations=[],
        ),
    ]
