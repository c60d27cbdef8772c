"""`{{ due_at|time_left }}`: how long until a deadline (or how long past it)."""

from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def time_left(due_at: datetime | None) -> dict:
    if due_at is None:
        return {"overdue": False, "text": ""}
    seconds = int((due_at - timezone.now()).total_seconds())
    overdue = seconds < 0
    minutes = abs(seconds) // 60
    hours, minutes = divmod(minutes, 60)
    text = f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
    return {"overdue": overdue, "text": text}
