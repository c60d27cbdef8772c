"""Show times in the company's time zone."""

import zoneinfo

from django.core.cache import cache
from django.utils import timezone


def company_time_zone() -> str:
    name = cache.get("company-time-zone")
    if name is None:
        from salesplan.org.models import Company

        company = Company.objects.order_by("id").first()
        name = company.time_zone if company else "UTC"
        cache.set("company-time-zone", name, 60)
    return name


class CompanyTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            timezone.activate(zoneinfo.ZoneInfo(company_time_zone()))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return self.get_response(request)
