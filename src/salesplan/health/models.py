"""Stored customer-health scores: one row per account, recomputed in bulk or on demand."""

from django.db import models

from salesplan.core.money import AmountField, CurrencyField


class AccountHealth(models.Model):
    """An account's health score (0–100), its five components and the facts behind them,
    so the reasons can be shown without recomputing. `change` is the difference from the
    previous computation (0 the first time, when `previous_score` is empty)."""

    account = models.OneToOneField("customers.Account", on_delete=models.CASCADE,
                                   primary_key=True, related_name="health")
    score = models.PositiveSmallIntegerField()
    previous_score = models.PositiveSmallIntegerField(null=True, blank=True)
    change = models.SmallIntegerField(default=0)
    recency_points = models.PositiveSmallIntegerField()
    frequency_points = models.PositiveSmallIntegerField()
    opportunity_points = models.PositiveSmallIntegerField()
    trend_points = models.PositiveSmallIntegerField()
    follow_up_points = models.PositiveSmallIntegerField()
    days_since_contact = models.PositiveIntegerField(null=True, blank=True)
    contacts_90d = models.PositiveIntegerField(default=0)
    open_opportunities = models.PositiveIntegerField(default=0)
    bookings_12m = AmountField(default=0)
    bookings_prev_12m = AmountField(default=0)
    currency = CurrencyField()
    overdue_tasks = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()
    # Stored rather than derived in the query, so the at-risk list reads an index in order.
    at_risk = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "account health"
        indexes = [
            models.Index(fields=["score", "account"], name="health_score_idx"),
            models.Index(fields=["at_risk", "score", "account"], name="health_risk_score_idx"),
            models.Index(fields=["at_risk", "change", "account"],
                         name="health_risk_change_idx"),
        ]

    def __str__(self) -> str:
        return f"Account {self.account_id}: {self.score}"
