"""Show times in the company's time zone."""

from django.utils import timezone

from salesplan.core.clock import activate_company_time_zone


class CompanyTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        activate_company_time_zone()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
