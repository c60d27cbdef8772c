"""The company settings page (admins) and the personal profile page (everyone)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from salesplan.core.audit import history_for
from salesplan.core.records import posted_version
from salesplan.ui.forms import add_service_errors

from . import services_company as services
from .forms import CompanyForm, HolidayForm
from .models import Company, Holiday


def _admin_only(request) -> None:
    if not request.user.is_admin:
        raise PermissionDenied("Only administrators may change the company settings.")


def _settings_page(request, company, form, holiday_form, status=200):
    return render(request, "org/company_settings.html", {
        "company": company, "form": form, "holiday_form": holiday_form,
        "holidays": list(company.holidays.all()), "history": list(history_for(company)[:20]),
    }, status=status)


@login_required
def company_settings(request):
    _admin_only(request)
    company = Company.current()
    form = CompanyForm.for_company(company, request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if not data.get("logo"):
            data.pop("logo")
        try:
            changes = services.update_company(company, by=request.user, data=data,
                                              expected_version=posted_version(request.POST))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Settings saved." if changes else "Nothing changed.")
            return redirect("web:company_settings")
    return _settings_page(request, company, form, HolidayForm())


@login_required
@require_POST
def holiday_add(request):
    _admin_only(request)
    company = Company.current()
    form = HolidayForm(request.POST)
    if form.is_valid():
        try:
            services.add_holiday(company, by=request.user, day=form.cleaned_data["date"],
                                 name=form.cleaned_data["name"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Holiday added.")
            return redirect(reverse("web:company_settings") + "#holidays")
    return _settings_page(request, company, CompanyForm.for_company(company), form)


@login_required
@require_POST
def holiday_remove(request, pk):
    _admin_only(request)
    holiday = get_object_or_404(Holiday, pk=pk)
    services.remove_holiday(holiday, by=request.user)
    messages.success(request, f"Holiday “{holiday.name}” removed.")
    return redirect(reverse("web:company_settings") + "#holidays")


@login_required
def profile(request):
    feed_url = None
    if request.user.calendar_token:
        feed_url = request.build_absolute_uri(
            reverse("web:calendar_feed", args=[request.user.calendar_token]))
    return render(request, "org/profile.html", {"feed_url": feed_url})


@login_required
@require_POST
def calendar_token(request):
    if request.POST.get("action") == "stop":
        services.stop_calendar_feed(request.user, by=request.user)
        messages.success(request, "Your calendar feed is switched off.")
    else:
        services.regenerate_calendar_token(request.user, by=request.user)
        messages.success(request, "Your calendar feed has a new address; the old one no "
                                  "longer works.")
    return redirect("web:profile")
