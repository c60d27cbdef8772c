"""People and Teams pages in the settings area, the hand-over page, and the public pages a
one-time link opens (set a first password, reset a forgotten one)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from salesplan.core.audit import history_for
from salesplan.core.errors import StaleVersion
from salesplan.core.records import posted_version
from salesplan.core.registry import allowed
from salesplan.ui.forms import add_service_errors
from salesplan.ui.pages import require_or_403

from . import selectors, services_people, services_teams
from .forms import (
    InviteForm,
    PasswordResetRequestForm,
    PersonForm,
    SellingProfileForm,
    SetPasswordForm,
    TeamForm,
)
from .models import AccessLink, Team, User


def _site(request) -> str:
    return request.build_absolute_uri("/")


# --- People -----------------------------------------------------------------------------


@login_required
def people_list(request):
    require_or_403(request.user, "person", "view")
    status = request.GET.get("status", "active")
    search = request.GET.get("q", "").strip()[:100]
    rows = selectors.people(search=search, status=status if status != "all" else "")
    return render(request, "org/people.html", {
        "nav_section": "settings", "settings_tab": "people", "people": rows,
        "status": status, "q": search})


@login_required
def person_invite(request):
    require_or_403(request.user, "person", "invite")
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            person = services_people.invite_user(by=request.user, link_base=_site(request),
                                                 **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Invitation sent to {person.email}.")
            return redirect("web:person_detail", person.pk)
    return render(request, "org/person_invite.html", {
        "nav_section": "settings", "settings_tab": "people", "form": form},
        status=400 if form.errors else 200)


def _person_page(request, person, *, form=None, profile_form=None, status=200):
    may_change = allowed(request.user, "person", "change", person)
    return render(request, "org/person_detail.html", {
        "nav_section": "settings", "settings_tab": "people", "person": person,
        "form": form or (PersonForm.for_person(person) if may_change else None),
        "profile_form": profile_form or SellingProfileForm.for_person(person),
        "invitation": services_people.pending_invitation(person),
        "history": list(history_for(person)[:20]),
    }, status=status)


@login_required
def person_detail(request, pk):
    require_or_403(request.user, "person", "view")
    return _person_page(request, get_object_or_404(User, pk=pk))


def _save(request, person, call, form, *, done: str):
    """Run a versioned service call for a page form; errors go back onto the form."""
    try:
        changes = call()
    except StaleVersion:
        form.add_error(None, "This person was changed by someone else since you opened the "
                             "page. Reload it and apply your change again; nothing was saved.")
    except ValidationError as exc:
        add_service_errors(form, exc)
    else:
        messages.success(request, done if changes else "Nothing changed.")
        return None
    return form


def _post_form(request, pk, *, action: str, form_class, service, done: str, slot: str):
    """A person's page form posted: the service with the form's version, or the page again
    with the errors on the form (in `slot`: "form" or "profile_form")."""
    person = get_object_or_404(User, pk=pk)
    require_or_403(request.user, "person", action, person)
    form = form_class(request.POST)
    if form.is_valid():
        failed = _save(request, person, lambda: service(
            person, by=request.user, data=dict(form.cleaned_data),
            expected_version=posted_version(request.POST)), form, done=done)
        if failed is None:
            return redirect("web:person_detail", person.pk)
    person.refresh_from_db()
    return _person_page(request, person, status=400, **{slot: form})


@login_required
@require_POST
def person_update(request, pk):
    return _post_form(request, pk, action="change", form_class=PersonForm,
                      service=services_people.update_person, done="Saved.", slot="form")


@login_required
@require_POST
def profile_update(request, pk):
    return _post_form(request, pk, action="change_profile", form_class=SellingProfileForm,
                      service=services_people.update_selling_profile,
                      done="Selling profile saved.", slot="profile_form")


def _simple_action(request, pk, action: str, call, done: str):
    person = get_object_or_404(User, pk=pk)
    require_or_403(request.user, "person", action, person)
    try:
        call(person)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect("web:person_detail", person.pk)


@login_required
@require_POST
def invitation(request, pk):
    if request.POST.get("action") == "revoke":
        return _simple_action(request, pk, "invite", lambda p: services_people.revoke_invitation(
            p, by=request.user), "Invitation withdrawn: its link no longer opens.")
    return _simple_action(request, pk, "invite", lambda p: services_people.resend_invitation(
        p, by=request.user, link_base=_site(request)), "Invitation sent again.")


@login_required
@require_POST
def password_reset_send(request, pk):
    return _simple_action(request, pk, "change", lambda p: services_people.send_password_reset(
        p, by=request.user, link_base=_site(request)), "Password reset link sent.")


@login_required
@require_POST
def sessions_end(request, pk):
    return _simple_action(request, pk, "end_sessions", lambda p: services_people.end_sessions(
        p, by=request.user), "Their sessions are ended: they must log in again.")


@login_required
@require_POST
def person_reactivate(request, pk):
    return _simple_action(request, pk, "deactivate", lambda p: services_people.reactivate_user(
        p, by=request.user, expected_version=posted_version(request.POST)), "Reactivated.")


@login_required
def person_deactivate(request, pk):
    """GET: the hand-over preview for a chosen successor; POST: apply it."""
    person = get_object_or_404(User, pk=pk)
    require_or_403(request.user, "person", "deactivate", person)
    source = request.POST if request.method == "POST" else request.GET
    raw = source.get("successor", "")
    successor = User.objects.filter(pk=int(raw), is_active=True).first() \
        if raw.isdigit() and len(raw) < 12 else None
    error, status = "", 200
    if request.method == "POST":
        try:
            moved = services_people.deactivate_user(
                person, by=request.user, successor=successor,
                fingerprint=request.POST.get("fingerprint", ""))
        except StaleVersion as exc:
            error, status = str(exc), 409
        except ValidationError as exc:
            error, status = " ".join(exc.messages), 400
        else:
            total = sum(moved.values())
            messages.success(request, f"{person} is deactivated; {total} records went to "
                                      f"{successor or 'nobody'}.")
            return redirect("web:person_detail", person.pk)
    plan = None
    try:
        plan = services_people.preview_handover(person, by=request.user, successor=successor)
    except ValidationError as exc:
        error = error or " ".join(exc.messages)
    candidates = User.objects.filter(is_active=True).exclude(pk=person.pk).order_by(
        "last_name", "first_name", "username")
    return render(request, "org/person_deactivate.html", {
        "nav_section": "settings", "settings_tab": "people", "person": person, "plan": plan,
        "successor": successor, "candidates": candidates, "error": error}, status=status)


# --- Teams ------------------------------------------------------------------------------


@login_required
def team_list(request):
    require_or_403(request.user, "team", "view")
    form = TeamForm(request.POST or None)
    if request.method == "POST":
        require_or_403(request.user, "team", "manage")
        if form.is_valid():
            try:
                team = services_teams.create_team(by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Team {team.name} created.")
                return redirect("web:team_list")
    return render(request, "org/teams.html", {
        "nav_section": "settings", "settings_tab": "teams", "form": form,
        "tree": [(team, depth, "— " * depth) for team, depth in selectors.team_tree()]},
        status=400 if form.errors else 200)


@login_required
def team_edit(request, pk):
    team = get_object_or_404(Team.objects.select_related("parent", "manager"), pk=pk)
    require_or_403(request.user, "team", "view")
    form = TeamForm.for_team(team, request.POST or None)
    status = 200
    if request.method == "POST":
        require_or_403(request.user, "team", "manage", team)
        if form.is_valid():
            failed = _save(request, team, lambda: services_teams.update_team(
                team, by=request.user, data=dict(form.cleaned_data),
                expected_version=posted_version(request.POST)), form, done="Team saved.")
            if failed is None:
                return redirect("web:team_list")
        team.refresh_from_db()
        status = 400
    return render(request, "org/team_edit.html", {
        "nav_section": "settings", "settings_tab": "teams", "team": team, "form": form,
        "members": team.members.order_by("last_name", "first_name"),
        "history": list(history_for(team)[:20])}, status=status)


# --- Pages a one-time link opens (no login) ----------------------------------------------


@sensitive_post_parameters("password", "password_again")
@never_cache
def invite_accept(request, token):
    return _set_password(request, token, AccessLink.Purpose.INVITE)


@sensitive_post_parameters("password", "password_again")
@never_cache
def password_set(request, token):
    return _set_password(request, token, AccessLink.Purpose.RESET)


def _set_password(request, token: str, purpose: str):
    link = services_people.open_link(token, purpose)
    if link is None:
        return render(request, "org/link_expired.html", {"purpose": purpose}, status=410)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services_people.set_password_with_link(token, purpose, form.cleaned_data["password"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Your password is set. Log in with it now.")
            return redirect("web:login")
    return render(request, "org/set_password.html", {
        "form": form, "person": link.user, "purpose": purpose},
        status=400 if form.errors else 200)


@never_cache
def password_reset(request):
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services_people.request_password_reset(
                form.cleaned_data["email"], link_base=_site(request),
                client=request.META.get("REMOTE_ADDR", ""))
        except ValidationError:
            pass  # the answer is the same whether or not the email went out
        return render(request, "org/password_reset_sent.html", {})
    return render(request, "org/password_reset.html", {"form": form})
