"""Marketing pages: campaigns with members and attribution, capture forms with their
embed snippet, the public form page, the routing queue, the SLA board, feedback and the
handoff panel on the lead page. Thin: reads from selectors, writes through services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from salesplan.core.records import posted_version
from salesplan.customers.models import Lead
from salesplan.org.models import Role
from salesplan.ui.charts import bar_chart
from salesplan.ui.forms import add_service_errors
from salesplan.ui.pages import visible_or_404

from . import access, attribution, capture, intake, selectors, services
from .api import client_address, start_refresh
from .forms import CampaignForm, CaptureFormForm, MembersForm, PolicyForm
from .models import Campaign, MarketingPolicy
from .routing import route_pending

TRANSITION_LABELS = {"accept": "Accept", "qualify": "Qualify", "convert": "Convert",
                     "recycle": "Recycle", "disqualify": "Disqualify",
                     "requalify": "Send back to sales"}


def _page(request, template: str, context: dict, status: int = 200):
    context.setdefault("nav_section", "marketing")
    context.setdefault("can_manage", access.can_manage(request.user))
    context.setdefault("can_view_results", access.can_view_results(request.user))
    context.setdefault("can_work_queue", access.can_work_queue(request.user))
    return render(request, template, context, status=status)


def _campaign(user, pk: int) -> Campaign:
    found = selectors.campaign(user, pk)
    if found is None:
        raise Http404(f"No campaign with id {pk}.")
    return found


def _model(request) -> str:
    model = request.GET.get("model", "linear")
    return model if model in attribution.MODELS else "linear"


@login_required
def campaign_list(request):
    rows = list(selectors.campaigns(request.user).order_by("-start_date", "name", "id")[:500])
    form = None
    if access.can_manage(request.user):
        form = CampaignForm(request.POST or None, initial={"owner": request.user})
        if request.method == "POST" and form.is_valid():
            try:
                campaign = services.create_campaign(by=request.user, data=form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Campaign {campaign} created.")
                return redirect("web:marketing:campaign", pk=campaign.pk)
    elif request.method == "POST":
        raise PermissionDenied
    return _page(request, "marketing/campaigns.html", {"campaigns": rows, "form": form})


@login_required
def campaign_detail(request, pk: int):
    campaign = _campaign(request.user, pk)
    model = _model(request)
    context: dict = {"campaign": campaign, "model": model, "models": attribution.MODELS,
                     "members": selectors.members(campaign, request.user),
                     "responses": selectors.response_counts(campaign)}
    if access.can_view_results(request.user):
        context["result"] = attribution.report(model, [campaign])[0]
        context["influenced"] = attribution.influenced_opportunities(campaign, request.user)
    if access.can_manage(request.user):
        form = CampaignForm(request.POST if request.POST.get("action") == "edit" else None,
                            instance=campaign, prefix="edit")
        members_form = MembersForm(request.POST if request.POST.get("action") == "members"
                                   else None, prefix="add")
        if request.method == "POST":
            response = _campaign_post(request, campaign, form, members_form)
            if response is not None:
                return response
        context.update(form=form, members_form=members_form)
    elif request.method == "POST":
        raise PermissionDenied
    return _page(request, "marketing/campaign.html", context)


def _campaign_post(request, campaign, form, members_form):
    action = request.POST.get("action")
    try:
        if action == "edit" and form.is_valid():
            services.update_campaign(campaign, by=request.user, data=form.cleaned_data,
                                     expected_version=posted_version(request.POST))
            messages.success(request, "Campaign saved.")
            return redirect("web:marketing:campaign", pk=campaign.pk)
        if action == "members" and members_form.is_valid():
            added, unknown = services.add_members_by_email(
                campaign, by=request.user, emails=members_form.cleaned_data["emails"].split(),
                response=members_form.cleaned_data["response"])
            messages.success(request, f"{added} member(s) added or updated."
                             + (f" No lead or contact has: {', '.join(unknown)}." if unknown
                                else ""))
            return redirect("web:marketing:campaign", pk=campaign.pk)
    except ValidationError as exc:
        add_service_errors(form if action == "edit" else members_form, exc)
    return None


@login_required
def attribution_page(request):
    access.require_view_results(request.user)
    model = _model(request)
    if request.method == "POST":
        access.require_manage(request.user)
        job = start_refresh(request.user)
        messages.success(request, "Attribution refresh started; its progress is on the "
                                  "Jobs page.")
        return redirect("web:imports:job", pk=job.pk)
    results = attribution.report(model, selectors.campaigns(request.user)
                                 .order_by("name", "id")[:200])
    shown = [r for r in results if r.pipeline or r.bookings]
    chart = bar_chart([r.campaign.name for r in shown], {
        "Pipeline": [float(r.pipeline.get(r.campaign.currency, 0)) for r in shown],
        "Bookings": [float(r.bookings.get(r.campaign.currency, 0)) for r in shown],
    }, y_name="Amount in the campaign's currency", others=False) if shown else ""
    return _page(request, "marketing/attribution.html", {
        "results": results, "model": model, "models": attribution.MODELS, "chart": chart,
        "refreshed_at": MarketingPolicy.current().attribution_refreshed_at})


@login_required
def form_list(request):
    rows = list(selectors.forms(request.user)[:500])
    form = CaptureFormForm(request.POST or None, initial={"queue_owner": request.user})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["fields"] = data.pop("shown_fields")
        try:
            created = services.create_form(by=request.user, data=data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Form {created} created.")
            return redirect("web:marketing:form", pk=created.pk)
    return _page(request, "marketing/forms.html", {"forms": rows, "form": form})


@login_required
def form_detail(request, pk: int):
    found = selectors.capture_form(request.user, pk)
    if found is None:
        raise Http404("No such form.")
    if request.method == "POST":
        services.update_form(found, by=request.user,
                             data={"is_active": request.POST.get("is_active") == "1"},
                             expected_version=posted_version(request.POST))
        messages.success(request, "Form " + ("activated." if found.is_active else "paused."))
        return redirect("web:marketing:form", pk=found.pk)
    page_url = request.build_absolute_uri(reverse("web:marketing:public_form", args=[found.key]))
    api_url = request.build_absolute_uri(f"/api/v1/marketing/capture/{found.key}")
    return _page(request, "marketing/form.html", {
        "capture_form": found, "page_url": page_url, "api_url": api_url,
        "fields": capture.fields_of(found), "honeypot": capture.HONEYPOT,
        "submissions": selectors.submissions(found)})


LABELS = {"first_name": "First name", "last_name": "Last name", "email": "Email",
          "title": "Job title", "phone": "Phone", "company": "Company", "website": "Website",
          "industry": "Industry", "employees": "Employees", "city": "City",
          "state": "State / region", "postal_code": "Postal code", "country": "Country (US, DE…)"}


# A visitor's browser has no session with us: the form's unguessable key is what admits
# the submission, and nothing is done on anyone's behalf, so there is no CSRF to exploit.
@csrf_exempt
def public_form(request, key: str):
    """The public page of a capture form (no login), and where its submissions go."""
    found = capture.active_form(key)
    if found is None:
        raise Http404("No such form.")
    errors: dict[str, list[str]] = {}
    values = {}
    status = 200
    unavailable = False
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in (*capture.fields_of(found),
                                                        capture.HONEYPOT)}
        try:
            intake.submit(found, values, address=client_address(request), strict=False)
        except capture.RateLimited as exc:
            response = render(request, "marketing/public_form.html", {
                "capture_form": found, "rate_limited": exc.retry_after, "fields": []},
                status=429)
            response["Retry-After"] = str(exc.retry_after)
            return response
        except ValidationError as exc:
            errors, status = exc.message_dict, 422
        except intake.IntakeUnavailable:
            unavailable, status = True, 503
        else:
            return render(request, "marketing/public_form.html",
                          {"capture_form": found, "done": True, "fields": []})
    fields = [{"name": name, "label": LABELS[name], "value": values.get(name, ""),
               "errors": errors.get(name, []),
               "required": name in ("last_name", "email", *found.required_fields),
               "type": "email" if name == "email" else "text"}
              for name in capture.fields_of(found)]
    return render(request, "marketing/public_form.html", {
        "capture_form": found, "fields": fields, "honeypot": capture.HONEYPOT,
        "errors": errors, "unavailable": unavailable}, status=status)


@login_required
def queue_page(request):
    access.require_work_queue(request.user)
    if request.method == "POST":
        outcome = route_pending(by=request.user)
        messages.success(request, f"{outcome['routed']} lead(s) routed, {outcome['queued']} "
                                  "still waiting.")
        return redirect("web:marketing:queue")
    return _page(request, "marketing/queue.html", {
        "rows": selectors.queue(request.user), "reps": selectors.queue_reps(request.user),
        "policy": MarketingPolicy.current()})


@login_required
@require_POST
def queue_assign(request, lead_pk: int):
    lead = selectors.queued_lead(request.user, lead_pk)
    rep = selectors.person(request.POST.get("rep") or 0)
    if lead is None or rep is None:
        raise Http404("No such lead or rep.")
    try:
        services.assign_from_queue(lead, rep, by=request.user)
        messages.success(request, f"{lead} assigned to {rep}.")
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("web:marketing:queue")


@login_required
def policy_page(request):
    policy = MarketingPolicy.current()
    form = PolicyForm(request.POST or None, initial={
        "sla_hours": policy.sla_hours, "routing_method": policy.routing_method,
        "default_capacity": policy.default_capacity})
    if request.method == "POST":
        if form.is_valid():
            try:
                services.update_policy(by=request.user, **form.cleaned_data,
                                       expected_version=posted_version(request.POST))
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Lead policy saved.")
                return redirect("web:marketing:policy")
    return _page(request, "marketing/policy.html", {
        "form": form, "policy": policy,
        "can_edit": request.user.is_admin or request.user.role == Role.MARKETING})


@login_required
def capacity_page(request):
    """Each rep one answers for: the open leads routing may give them and holds now."""
    return _page(request, "marketing/capacity.html", {
        "rows": selectors.capacity_rows(request.user), "policy": MarketingPolicy.current()})


@login_required
@require_POST
def capacity_set(request, user_id: int):
    """Set a rep's own limit of open leads, or clear it to use the policy's default."""
    access.require_set_capacity(request.user)  # who may not set any is told so first
    rep = selectors.capacity_person(request.user, user_id)
    if rep is None:
        raise Http404(f"No rep with id {user_id}.")
    raw = request.POST.get("max_open_leads", "").strip()
    limit = None if "clear" in request.POST else (int(raw) if raw.isdigit() else -1)
    try:
        services.set_capacity(rep, by=request.user, max_open_leads=limit,
                              expected_version=posted_version(request.POST))
    except ValidationError as exc:
        messages.error(request, f"{rep}: " + " ".join(exc.messages))
    else:
        messages.success(request, f"Lead capacity of {rep} saved." if limit is not None
                         else f"{rep} is back to the policy's default.")
    return redirect("web:marketing:capacity")


@login_required
def sla_page(request):
    open_only = request.GET.get("all") != "1"
    return _page(request, "marketing/sla.html", {
        "rows": selectors.sla_board(request.user, open_only=open_only), "open_only": open_only,
        "policy": MarketingPolicy.current()})


@login_required
def feedback_page(request):
    group = request.GET.get("group", "campaign")
    group = group if group in selectors.GROUPS else "campaign"
    try:
        days = max(1, min(int(request.GET.get("days", 365)), 3660))
    except ValueError:
        days = 365
    data = selectors.feedback(request.user, group=group, days=days)
    rows = data["rows"]
    chart = bar_chart([r["name"] for r in rows], {
        "Converted": [r["converted"] for r in rows],
        "Disqualified": [r["disqualified"] for r in rows],
        "Recycled": [r["recycled"] for r in rows],
        "Open": [r["open"] for r in rows]}, stacked=True, y_name="Leads") if rows else ""
    return _page(request, "marketing/feedback.html", {**data, "chart": chart})


# --- the handoff panel on the lead page -------------------------------------------------------


@login_required
def lead_panel(request, pk: int):
    """The handoff card of a lead (a fragment loaded by the lead page)."""
    lead = visible_or_404(Lead, request.user, pk, related=("owner",))
    return _panel(request, lead)


def _panel(request, lead: Lead, errors: dict | None = None, status: int = 200) -> HttpResponse:
    context = selectors.panel(lead, request.user)
    context.update(labels=TRANSITION_LABELS, errors=errors or {},
                   needs_reason=("recycle", "disqualify"))
    return render(request, "marketing/_lead_panel.html", context, status=status)


@login_required
@require_POST
def lead_transition(request, pk: int, name: str):
    lead = visible_or_404(Lead, request.user, pk, related=("owner",))
    if name not in services.TRANSITIONS:
        raise Http404("No such step.")
    try:
        services.transition(lead, name, by=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        if not request.htmx:
            messages.error(request, "; ".join(exc.messages))
            return redirect("web:lead_detail", pk=lead.pk)
        lead.refresh_from_db()
        return _panel(request, lead, exc.message_dict, status=422)
    if not request.htmx:
        return redirect("web:lead_detail", pk=lead.pk)
    lead.refresh_from_db()
    return _panel(request, lead)

