"""Home pages: My day for reps (and anyone who wants their own day), the team, company
or marketing view for the other roles (see web.homepages)."""

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from salesplan.activities.selectors import my_day as my_day_selector
from salesplan.inbox.selectors import open_leads

from .. import homepages

HOME_TEMPLATES = {"team": "web/home_team.html", "company": "web/home_company.html",
                  "marketing": "web/home_marketing.html"}
HOME_BUILDERS = {"team": homepages.team_home, "company": homepages.company_home,
                 "marketing": homepages.marketing_home}


@login_required
def home(request):
    kind = homepages.home_kind(request.user)
    if kind == "my_day":
        return my_day(request)
    return render(request, HOME_TEMPLATES[kind], {
        "nav_section": "my_day", "home_kind": kind, **HOME_BUILDERS[kind](request.user)})


@login_required
def my_day(request):
    day = my_day_selector(request.user)
    return render(request, "web/my_day.html", {
        **day, "new_leads": list(open_leads(request.user)[:50]),
        "yesterday": day["today_date"] - timedelta(days=1)})


@login_required
def company_forecast(request):
    """The company home page's forecast block, loaded after the page (htmx)."""
    return render(request, "web/home_company.html#forecast", homepages.company_forecast(
        request.user))
