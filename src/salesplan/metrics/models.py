"""The opportunity, activity and lead rollups: the one copy of the figures that
performance reports, plan vs actual and forecasts read.

They answer from monthly rollups instead of grouping millions of rows on every
request. Each rollup has two tables:

- a *row* table with one narrow line per source record (opportunity, activity, lead),
  holding exactly what the record contributes: its dimensions and measures;
- a *fact* table summing those lines per owner × dimensions × month.

`metrics.rollup.refresh()` brings both up to date before a report reads them, from two
watermarks: the highest record id seen (new records, including bulk loads) and the last
audit entry read (every create, change and delete made through the services and
imports is audited). Those records are re-read, and the difference between their new
line and the stored one is added to the facts; deleted records lose their line. Results
are therefore identical to grouping the source tables directly, which the tests check on
random data. (`updated_at` is not indexed on the source tables, so scanning it would
cost a full table scan per report at five million opportunities; the audit trail's
primary key is the watermark instead.)
"""

from django.db import models

from salesplan.core.money import AmountField

# The tables came over from the reports app with their data and kept their index names.

NO_TERRITORY = 0  # the territory dimension of records outside every territory


class RollupState(models.Model):
    """Where one rollup is up to: the highest source id read, the last audit entry read,
    and the territory assignment its lines were built with."""

    name = models.CharField(max_length=40, primary_key=True)
    max_id = models.BigIntegerField(default=0)
    audit_mark = models.BigIntegerField(default=0)
    # Audit ids below the mark not seen yet, with when they were first missed.
    gaps = models.JSONField(default=list, blank=True)
    territory_key = models.CharField(max_length=80, blank=True)
    built_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} up to id {self.max_id}, audit {self.audit_mark}"


class OpportunityLine(models.Model):
    """What one opportunity contributes to the opportunity facts."""

    opportunity_id = models.BigIntegerField(primary_key=True)
    owner_id = models.BigIntegerField()
    pipeline_id = models.BigIntegerField()
    stage_id = models.BigIntegerField()
    status = models.CharField(max_length=10)
    currency = models.CharField(max_length=3)
    territory_id = models.BigIntegerField(default=NO_TERRITORY)
    close_month = models.DateField()
    created_month = models.DateField()
    reached_position = models.PositiveSmallIntegerField(default=0)
    amount = AmountField()
    weighted = models.DecimalField(max_digits=22, decimal_places=4)
    cycle_days = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"opportunity {self.opportunity_id}"


class OpportunityFact(models.Model):
    """Opportunities summed per owner, pipeline, stage, currency, territory and month.

    `basis` says which month: the close month (bookings, pipeline, win rate, cycle) or
    the creation month (pipeline generated, conversion, funnel)."""

    class Basis(models.TextChoices):
        CLOSE = "close", "Close month"
        CREATED = "created", "Creation month"

    basis = models.CharField(max_length=7, choices=Basis.choices)
    month = models.DateField()
    owner_id = models.BigIntegerField()
    pipeline_id = models.BigIntegerField()
    stage_id = models.BigIntegerField()
    status = models.CharField(max_length=10)
    currency = models.CharField(max_length=3)
    territory_id = models.BigIntegerField(default=NO_TERRITORY)
    reached_position = models.PositiveSmallIntegerField(default=0)
    count = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=22, decimal_places=2, default=0)
    weighted = models.DecimalField(max_digits=26, decimal_places=4, default=0)
    cycle_days = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["basis", "month", "owner_id", "pipeline_id", "stage_id", "status",
                    "currency", "territory_id", "reached_position"],
            name="opportunity_fact_cell")]
        indexes = [models.Index(fields=["basis", "owner_id", "month"],
                                name="reports_opp_basis_0b275d_idx"),
                   models.Index(fields=["basis", "territory_id", "month"],
                                name="reports_opp_basis_8e7296_idx")]

    def __str__(self) -> str:
        return f"{self.basis} {self.month} owner {self.owner_id}: {self.count}"


class ActivityLine(models.Model):
    """What one activity contributes to the activity facts. The records it hangs from
    are kept so that their deletion (which cascades) removes the line too."""

    activity_id = models.BigIntegerField(primary_key=True)
    owner_id = models.BigIntegerField()
    kind = models.CharField(max_length=10)
    done = models.BooleanField()
    month = models.DateField()
    account_id = models.BigIntegerField(null=True, db_index=True)
    opportunity_id = models.BigIntegerField(null=True, db_index=True)
    lead_id = models.BigIntegerField(null=True, db_index=True)

    def __str__(self) -> str:
        return f"activity {self.activity_id}"


class ActivityFact(models.Model):
    """Activities counted per owner, kind, done or not, and month of their date."""

    month = models.DateField()
    owner_id = models.BigIntegerField()
    kind = models.CharField(max_length=10)
    done = models.BooleanField()
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["month", "owner_id", "kind", "done"],
                                               name="activity_fact_cell")]
        indexes = [models.Index(fields=["owner_id", "month"],
                                name="reports_act_owner_i_74535c_idx")]

    def __str__(self) -> str:
        return f"{self.month} owner {self.owner_id} {self.kind}: {self.count}"


class LeadLine(models.Model):
    """What one lead contributes to the lead facts."""

    lead_id = models.BigIntegerField(primary_key=True)
    owner_id = models.BigIntegerField()
    source = models.CharField(max_length=20)
    converted = models.BooleanField()
    month = models.DateField()

    def __str__(self) -> str:
        return f"lead {self.lead_id}"


class LeadFact(models.Model):
    """Leads counted per owner, source, converted or not, and month of creation."""

    month = models.DateField()
    owner_id = models.BigIntegerField()
    source = models.CharField(max_length=20)
    converted = models.BooleanField()
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["month", "owner_id", "source", "converted"],
                                               name="lead_fact_cell")]
        indexes = [models.Index(fields=["owner_id", "month"],
                                name="reports_lea_owner_i_7a59d7_idx")]

    def __str__(self) -> str:
        return f"{self.month} owner {self.owner_id} {self.source}: {self.count}"


