"""Plan vs actual reads the opportunity rollup of the metrics app, which forecasts and
reports read too: planning's own copy (`OpportunityRollup`, rebuilt nightly and
refreshed from change ids) and its state are dropped with their tables."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("planning", "0006_rollup_watermarks"),
    ]

    operations = [
        migrations.DeleteModel(name="OpportunityRollup"),
        migrations.DeleteModel(name="RollupState"),
    ]
