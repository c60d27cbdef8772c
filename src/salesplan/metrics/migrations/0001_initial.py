"""The rollups come over from the reports app with their tables and data (renamed by
reports' migration 0003): only Django's record of the models is created here, so a large
company keeps its built rollups instead of rebuilding them."""

from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("reports", "0003_rollups_move_to_metrics"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ActivityLine',
                    fields=[
                        ('activity_id', models.BigIntegerField(primary_key=True, serialize=False)),
                        ('owner_id', models.BigIntegerField()),
                        ('kind', models.CharField(max_length=10)),
                        ('done', models.BooleanField()),
                        ('month', models.DateField()),
                        ('account_id', models.BigIntegerField(db_index=True, null=True)),
                        ('opportunity_id', models.BigIntegerField(db_index=True, null=True)),
                        ('lead_id', models.BigIntegerField(db_index=True, null=True)),
                    ],
                ),
                migrations.CreateModel(
                    name='LeadLine',
                    fields=[
                        ('lead_id', models.BigIntegerField(primary_key=True, serialize=False)),
                        ('owner_id', models.BigIntegerField()),
                        ('source', models.CharField(max_length=20)),
                        ('converted', models.BooleanField()),
                        ('month', models.DateField()),
                    ],
                ),
                migrations.CreateModel(
                    name='OpportunityLine',
                    fields=[
                        ('opportunity_id', models.BigIntegerField(primary_key=True, serialize=False)),
                        ('owner_id', models.BigIntegerField()),
                        ('pipeline_id', models.BigIntegerField()),
                        ('stage_id', models.BigIntegerField()),
                        ('status', models.CharField(max_length=10)),
                        ('currency', models.CharField(max_length=3)),
                        ('territory_id', models.BigIntegerField(default=0)),
                        ('close_month', models.DateField()),
                        ('created_month', models.DateField()),
                        ('reached_position', models.PositiveSmallIntegerField(default=0)),
                        ('amount', models.DecimalField(decimal_places=2, max_digits=18)),
                        ('weighted', models.DecimalField(decimal_places=4, max_digits=22)),
                        ('cycle_days', models.IntegerField(default=0)),
                    ],
                ),
                migrations.CreateModel(
                    name='RollupState',
                    fields=[
                        ('name', models.CharField(max_length=40, primary_key=True, serialize=False)),
                        ('max_id', models.BigIntegerField(default=0)),
                        ('audit_mark', models.BigIntegerField(default=0)),
                        ('gaps', models.JSONField(blank=True, default=list)),
                        ('territory_key', models.CharField(blank=True, max_length=80)),
                        ('built_at', models.DateTimeField(blank=True, null=True)),
                        ('refreshed_at', models.DateTimeField(blank=True, null=True)),
                    ],
                ),
                migrations.CreateModel(
                    name='ActivityFact',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('month', models.DateField()),
                        ('owner_id', models.BigIntegerField()),
                        ('kind', models.CharField(max_length=10)),
                        ('done', models.BooleanField()),
                        ('count', models.BigIntegerField(default=0)),
                    ],
                    options={
                        'indexes': [models.Index(fields=['owner_id', 'month'], name='reports_act_owner_i_74535c_idx')],
                        'constraints': [models.UniqueConstraint(fields=('month', 'owner_id', 'kind', 'done'), name='activity_fact_cell')],
                    },
                ),
                migrations.CreateModel(
                    name='LeadFact',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('month', models.DateField()),
                        ('owner_id', models.BigIntegerField()),
                        ('source', models.CharField(max_length=20)),
                        ('converted', models.BooleanField()),
                        ('count', models.BigIntegerField(default=0)),
                    ],
                    options={
                        'indexes': [models.Index(fields=['owner_id', 'month'], name='reports_lea_owner_i_7a59d7_idx')],
                        'constraints': [models.UniqueConstraint(fields=('month', 'owner_id', 'source', 'converted'), name='lead_fact_cell')],
                    },
                ),
                migrations.CreateModel(
                    name='OpportunityFact',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('basis', models.CharField(choices=[('close', 'Close month'), ('created', 'Creation month')], max_length=7)),
                        ('month', models.DateField()),
                        ('owner_id', models.BigIntegerField()),
                        ('pipeline_id', models.BigIntegerField()),
                        ('stage_id', models.BigIntegerField()),
                        ('status', models.CharField(max_length=10)),
                        ('currency', models.CharField(max_length=3)),
                        ('territory_id', models.BigIntegerField(default=0)),
                        ('reached_position', models.PositiveSmallIntegerField(default=0)),
                        ('count', models.BigIntegerField(default=0)),
                        ('amount', models.DecimalField(decimal_places=2, default=0, max_digits=22)),
                        ('weighted', models.DecimalField(decimal_places=4, default=0, max_digits=26)),
                        ('cycle_days', models.BigIntegerField(default=0)),
                    ],
                    options={
                        'indexes': [models.Index(fields=['basis', 'owner_id', 'month'], name='reports_opp_basis_0b275d_idx'), models.Index(fields=['basis', 'territory_id', 'month'], name='reports_opp_basis_8e7296_idx')],
                        'constraints': [models.UniqueConstraint(fields=('basis', 'month', 'owner_id', 'pipeline_id', 'stage_id', 'status', 'currency', 'territory_id', 'reached_position'), name='opportunity_fact_cell')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
