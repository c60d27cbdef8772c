"""Show times in the company's time zone."""

import time
import zoneinfo

from django.core.cache import cache
from django.utils import timezone

LOCAL_SECONDS = 5  # other server processes see a new time zone within this long
_local: list = [0.0, None]  # [expires at (monotonic), name]


def company_time_zone() -> str:
    """The company's time zone: remembered in this process for a few seconds (read on
    every request), and in the shared cache for a minute (changing it clears both)."""
    now = time.monotonic()
    if _local[1] is not None and _local[0] > now:
        return _local[1]
    name = cache.get("company-time-zone")
    if name is None:
        from salesplan.org.models import Company

        company = Company.objects.order_by("id").first()
        name = company.time_zone if company else "UTC"
        cache.set("company-time-zone", name, 60)
    _local[:] = [now + LOCAL_SECONDS, name]
    return name


def forget_company_time_zone() -> None:
    cache.delete("company-time-zone")
    _local[:] = [0.0, None]


class CompanyTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            timezone.activate(zoneinfo.ZoneInfo(company_time_zone()))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return self.get_response(request)
