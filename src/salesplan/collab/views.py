"""Comment threads on record pages (htmx panels), notifications and the unread badge.

Thin: records are found through `targets` (visibility first: 404 for what the user may
not see), writes go through `services`; a refusal comes back in the form.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from salesplan.core.errors import NotFound
from salesplan.core.records import posted_version
from salesplan.ui.forms import add_service_errors

from . import selectors, services, targets
from .forms import CommentForm, NotificationSettingsForm
from .models import NotificationSettings


def _target(request, kind: str, pk: int):
    try:
        return targets.get_target(kind, pk, request.user)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


def _comment(request, pk: int):
    try:
        return selectors.visible_comment(request.user, pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


def _thread(request, kind: str, obj, form: CommentForm | None = None, *,
            posted: bool = False, error_for: int | None = None, edit_form=None):
    return render(request, "collab/_thread.html", {
        "kind": kind, "object": obj, "comments": selectors.comments_on(obj),
        "form": form or CommentForm(auto_id=f"comment_%s_{kind}_{obj.pk}"),
        "posted": posted, "error_for": error_for, "edit_form": edit_form,
    })


def _back(request, obj):
    return redirect(targets.url_of(obj) or "web:collab:notifications")


@login_required
@require_http_methods(["GET", "POST"])
def thread(request, kind: str, pk: int):
    """The comment panel of one record; POST adds a comment."""
    obj = _target(request, kind, pk)
    if request.method == "GET":
        return _thread(request, kind, obj)
    form = CommentForm(request.POST, auto_id=f"comment_%s_{kind}_{obj.pk}")
    if form.is_valid():
        try:
            services.post_comment(obj, by=request.user, body=form.cleaned_data["body"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if not request.htmx:
                messages.success(request, "Comment added.")
                return _back(request, obj)
            return _thread(request, kind, obj, posted=True)
    if not request.htmx:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return _back(request, obj)
    return _thread(request, kind, obj, form)


def lead_comments(request, pk: int):
    return thread(request, "lead", pk)


def account_comments(request, pk: int):
    return thread(request, "account", pk)


def opportunity_comments(request, pk: int):
    return thread(request, "opportunity", pk)


@login_required
@require_POST
def comment_edit(request, pk: int):
    """Change your own comment (403 for anyone else's)."""
    comment = _comment(request, pk)
    obj, kind = comment.target, targets.kind_of(comment.target).name
    form = CommentForm(request.POST, auto_id=f"edit_%s_{comment.pk}")
    if form.is_valid():
        try:
            services.edit_comment(comment, by=request.user, body=form.cleaned_data["body"],
                                  expected_version=posted_version(request.POST))
        except ValidationError as exc:
            add_service_errors(form, exc)
    if form.errors:
        if not request.htmx:
            messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
            return _back(request, obj)
        return _thread(request, kind, obj, error_for=comment.pk, edit_form=form)
    return _thread(request, kind, obj) if request.htmx else _back(request, obj)


@login_required
@require_POST
def comment_delete(request, pk: int):
    """Delete your own comment (admins may delete any)."""
    comment = _comment(request, pk)
    obj, kind = comment.target, targets.kind_of(comment.target).name
    services.delete_comment(comment, by=request.user,
                            expected_version=posted_version(request.POST))
    return _thread(request, kind, obj) if request.htmx else _back(request, obj)


@login_required
def notifications(request):
    """Your notifications, newest first, and whether mentions are also emailed."""
    found = selectors.notifications_for(request.user)
    if request.GET.get("unread"):
        found = found.filter(read=False)
    preference = NotificationSettings.objects.filter(user=request.user).first()
    return render(request, "collab/notifications.html", {
        "nav_section": "notifications", "notifications": found[:200],
        "unread": selectors.unread_count(request.user), "only_unread": bool(
            request.GET.get("unread")),
        "settings_form": NotificationSettingsForm(initial={
            "email_mentions": preference.email_mentions if preference else False}),
    })


@login_required
@require_POST
def notification_open(request, pk: int):
    """Mark one notification read and go where it points."""
    try:
        notification = selectors.own_notification(request.user, pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    services.mark_read(notification, by=request.user)
    if request.htmx:
        return render(request, "collab/_notification_row.html", {"n": notification})
    url = notification.url
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(url)
    return redirect("web:collab:notifications")


@login_required
@require_POST
def notifications_read_all(request):
    count = services.mark_all_read(by=request.user)
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} read.")
    return redirect("web:collab:notifications")


@login_required
@require_POST
def notification_settings(request):
    form = NotificationSettingsForm(request.POST)
    if form.is_valid():
        services.set_email_mentions(by=request.user,
                                    enabled=form.cleaned_data["email_mentions"])
        messages.success(request, "Saved your notification settings.")
    return redirect("web:collab:notifications")


@login_required
def badge(request):
    """The unread count for the page header (htmx polls it)."""
    return render(request, "collab/_notification_badge.html",
                  {"unread": selectors.unread_count(request.user)})
