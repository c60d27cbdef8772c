"""My day: what a rep works on this morning."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from salesplan.activities.selectors import my_day as my_day_selector
from salesplan.inbox.selectors import open_leads


@login_required
def my_day(request):
    day = my_day_selector(request.user)
    return render(request, "web/my_day.html", {**day, "new_leads": list(
        open_leads(request.user)[:50]), "counts": {
        "today": len(day["today"]), "overdue": len(day["overdue"]),
        "no_next_step": len(day["no_next_step"])}})
