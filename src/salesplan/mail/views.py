"""Email pages: the compose panel on record pages (htmx), templates, unknown senders,
mailboxes and your signature. Thin: records come through `records` (404 for what the user
may not see), writes through `services`; a refusal comes back in the form."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from salesplan.core.errors import NotFound, StaleVersion
from salesplan.core.records import posted_version
from salesplan.core.registry import allowed
from salesplan.ui.forms import STALE_MESSAGE, add_service_errors
from salesplan.ui.pages import require_or_403

from . import inbound, selectors, services
from .forms import ComposeForm, LinkForm, MailboxForm, SignatureForm, TemplateForm
from .models import Signature
from .records import default_recipient, get_record, url_of


def _record(request, kind: str, pk: int):
    try:
        return get_record(kind, pk, request.user)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


def _panel(request, kind: str, obj, form: ComposeForm | None = None, *, draft=None,
           sent=None):
    templates = selectors.templates(request.user, active_only=True)
    may_send = allowed(request.user, "email", "send", obj)
    form = form or ComposeForm(templates=templates, auto_id=f"email_%s_{kind}_{obj.pk}",
                               initial={"to": default_recipient(obj)})
    # Picking a template fills the form with its text at once (the button does it
    # without JavaScript).
    form.fields["template"].widget.attrs.update({
        "hx-post": reverse("web:mail:compose", args=[kind, obj.pk]),
        "hx-vals": '{"action": "template"}', "hx-trigger": "change",
        "hx-target": f"#email-{kind}-{obj.pk}", "hx-swap": "outerHTML"})
    return render(request, "mail/_panel.html", {
        "kind": kind, "object": obj, "may_send": may_send, "draft": draft, "sent": sent,
        "form": form,
        "emails": selectors.messages_on(request.user, obj, limit=20),
        "bounces": selectors.bounces_of(obj) if kind == "contact" else [],
    })


def panel(request, kind: str, pk: int):
    """The Email card of a record page: compose, preview, send; the emails logged."""
    obj = _record(request, kind, pk)
    require_or_403(request.user, "email", "view", obj)
    return _panel(request, kind, obj)


@login_required
def contact_panel(request, pk: int):
    return panel(request, "contact", pk)


@login_required
def account_panel(request, pk: int):
    return panel(request, "account", pk)


@login_required
def lead_panel(request, pk: int):
    return panel(request, "lead", pk)


@login_required
def opportunity_panel(request, pk: int):
    return panel(request, "opportunity", pk)


@login_required
@require_POST
def compose(request, kind: str, pk: int):
    """One button of the compose form: `template` fills the form with a template's text,
    `preview` shows the email exactly as it will go, `send` sends it."""
    obj = _record(request, kind, pk)
    require_or_403(request.user, "email", "send", obj)
    templates = selectors.templates(request.user, active_only=True)
    form = ComposeForm(request.POST, templates=templates, auto_id=f"email_%s_{kind}_{obj.pk}")
    action = request.POST.get("action", "preview")
    if not form.is_valid():
        return _panel(request, kind, obj, form)
    data = form.cleaned_data
    if action == "template" and data["template"] is not None:
        form = ComposeForm(templates=templates, auto_id=f"email_%s_{kind}_{obj.pk}", initial={
            "template": data["template"], "to": data["to"] or default_recipient(obj),
            "subject": data["template"].subject, "body": data["template"].body})
        return _panel(request, kind, obj, form)
    arguments = {"by": request.user, "to": data["to"], "subject": data["subject"],
                 "body": data["body"], "template": data["template"]}
    try:
        if action == "send":
            sent = services.send_email(obj, **arguments)
            if not request.htmx:
                messages.success(request, f"Sent to {sent.to_addresses}.")
                return redirect(url_of(obj))
            return _panel(request, kind, obj, sent=sent)
        draft = services.compose(obj, **arguments)
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _panel(request, kind, obj, form)
    return _panel(request, kind, obj, form, draft=draft)


@login_required
@require_http_methods(["GET", "POST"])
def template_list(request):
    """Every template; admins, managers and marketing add new ones here."""
    may_create = allowed(request.user, "email_template", "create")
    form = TemplateForm(request.POST or None)
    if request.method == "POST":
        require_or_403(request.user, "email_template", "create")
        if form.is_valid():
            try:
                services.create_template(by=request.user, data=form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Template added.")
                return redirect("web:mail:templates")
    return render(request, "mail/templates.html", {
        "nav_section": "email", "templates": selectors.templates(request.user),
        "form": form, "may_create": may_create})


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request, pk: int):
    try:
        template = selectors.template(request.user, pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    may_change = allowed(request.user, "email_template", "change", template)
    form = TemplateForm(request.POST or None, instance=template)
    if request.method == "POST":
        require_or_403(request.user, "email_template", "change", template)
        if form.is_valid():
            try:
                services.update_template(template, by=request.user, data={
                    k: form.cleaned_data[k] for k in ("name", "subject", "body", "active")},
                    expected_version=posted_version(request.POST))
            except StaleVersion:
                form.add_error(None, STALE_MESSAGE)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Template saved.")
                return redirect("web:mail:templates")
    return render(request, "mail/template_form.html", {
        "nav_section": "email", "template": template, "form": form,
        "may_change": may_change, "revisions": template.revisions.select_related(
            "saved_by")[:20]})


@login_required
def triage(request):
    """Messages from senders no contact or lead has."""
    return render(request, "mail/triage.html", {
        "nav_section": "email", "waiting": selectors.waiting_for_triage(request.user)[:200],
        "link_form": LinkForm()})


@login_required
@require_POST
def triage_action(request, pk: int, action: str):
    try:
        message = selectors.triage_message(request.user, pk)
        if action == "link":
            form = LinkForm(request.POST)
            if not form.is_valid():
                raise ValidationError("Pick a record kind and its id.")
            record = get_record(form.cleaned_data["record"], form.cleaned_data["record_id"],
                                request.user)
            services.link_sender(message, record, by=request.user)
            messages.success(request, f"Logged on {record}.")
        elif action == "lead":
            services.lead_from_sender(message, by=request.user)
            messages.success(request, f"Lead created for {message.from_address}.")
        elif action == "ignore":
            services.ignore_sender(message, by=request.user)
            messages.success(request, "Ignored.")
        else:
            raise Http404("No such triage action.")
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("web:mail:triage")


@login_required
@require_http_methods(["GET", "POST"])
def mailbox_list(request):
    """Your mailboxes (an admin: all, and the shared BCC mailbox), with a fetch button."""
    form = MailboxForm(request.POST or None)
    if request.method == "POST":
        require_or_403(request.user, "mailbox", "create")
        if form.is_valid():
            data = dict(form.cleaned_data)
            if request.POST.get("shared") and request.user.is_admin:
                data["owner"] = None
            else:
                data["owner"] = request.user
            try:
                services.create_mailbox(by=request.user, data=data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Mailbox added.")
                return redirect("web:mail:mailboxes")
    signature = Signature.objects.filter(user=request.user).first()
    return render(request, "mail/mailboxes.html", {
        "nav_section": "email", "mailboxes": selectors.mailboxes(request.user), "form": form,
        "signature_form": SignatureForm(initial={"text": signature.text if signature else ""}),
        "signature": signature})


@login_required
@require_POST
def mailbox_fetch(request, pk: int):
    try:
        mailbox = selectors.mailbox(request.user, pk)
        result = inbound.fetch_mailbox(mailbox, by=request.user)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except PermissionDenied:
        raise
    if result.errors:
        messages.error(request, " ".join(result.errors))
    else:
        messages.success(request, f"{mailbox}: {result}.")
    return redirect("web:mail:mailboxes")


@login_required
@require_POST
def signature(request):
    form = SignatureForm(request.POST)
    if form.is_valid():
        try:
            services.set_signature(by=request.user, text=form.cleaned_data["text"],
                                   expected_version=posted_version(request.POST))
        except StaleVersion:
            messages.error(request, STALE_MESSAGE)
        else:
            messages.success(request, "Signature saved.")
    return redirect("web:mail:mailboxes")
