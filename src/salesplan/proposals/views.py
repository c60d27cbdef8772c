"""Quote pages: the list, the quote editor (terms, lines priced as they are added, status
actions, approvals, versions), the approval inbox, the PDF, the opportunity's quotes panel
and the admins' approval matrix and proposal template.

Thin: reads from proposals.selectors and access, writes through the services; a service's
refusal comes back as a message, permission errors stay a 403 and invisible quotes a 404.
"""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from salesplan.core.errors import NotFound
from salesplan.core.listing import keyset_page
from salesplan.core.permissions import has_permission
from salesplan.core.records import posted_version
from salesplan.core.selectors import get_visible
from salesplan.customers.models import Contact
from salesplan.pipeline.models import Opportunity, StageKind

from . import access, selectors, services, settings_services
from .forms import (
    CommentForm,
    LineChangeForm,
    LineForm,
    NewQuoteForm,
    RuleForm,
    TemplateForm,
    TermsForm,
)
from .models import Approval, ApprovalRule, Quote, QuoteLine, QuoteStatus, QuoteVersion
from .pdf import built_in_html, render_pdf, template_settings

NAV = "quotes"
# The status actions a quote offers in each status.
NEXT_STEPS = {
    QuoteStatus.DRAFT: [("submit", "Submit for approval"), ("send", "Mark as sent")],
    QuoteStatus.IN_APPROVAL: [],
    QuoteStatus.APPROVED: [("send", "Mark as sent")],
    QuoteStatus.SENT: [("accept", "Customer accepted"), ("reject", "Customer rejected")],
    QuoteStatus.ACCEPTED: [],
    QuoteStatus.REJECTED: [],
    QuoteStatus.EXPIRED: [],
}


def _quote(request, pk: int) -> Quote:
    try:
        return access.get_quote(request.user, pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


def _problems(form) -> str:
    return " ".join(f"{field}: {' '.join(str(e) for e in errors)}"
                    for field, errors in form.errors.items())


def _apply(request, quote: Quote, change: Callable[[], object], success: str):
    """Run a service; its refusal becomes a message, permission errors stay a 403."""
    try:
        change()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, success)
    return redirect("web:proposals:detail", quote.pk)


@login_required
def quote_list(request):
    status = request.GET.get("status") or None
    if status not in QuoteStatus.values:
        status = None
    try:
        page = keyset_page(selectors.quote_list(request.user, status=status),
                           sort_field="-created_at", sort_key="-created_at",
                           cursor=request.GET.get("cursor"), limit=50)
    except ValidationError as exc:
        raise Http404("This page of the list does not exist.") from exc
    template = "proposals/quote_list.html"
    if request.htmx:
        template += "#results"
    return render(request, template, {
        "nav_section": NAV, "quotes": page.items, "page": page, "statuses": QuoteStatus.choices,
        "status": status or "",
        "inbox_count": selectors.approval_inbox(request.user).count(),
    })


@login_required
@require_POST
def quote_create(request, opportunity_pk: int):
    try:
        opportunity = get_visible(Opportunity, request.user, opportunity_pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    form = NewQuoteForm(request.POST)
    title = form.cleaned_data["title"] if form.is_valid() else ""
    try:
        quote = services.create_quote(by=request.user, opportunity=opportunity, title=title)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("web:opportunity_detail", opportunity.pk)
    messages.success(request, f"Quote {quote.number} started as a draft.")
    return redirect("web:proposals:detail", quote.pk)


def _terms_form(user, quote: Quote, version: QuoteVersion, data=None) -> TermsForm:
    contacts = Contact.objects.visible_to(user).filter(
        account_id=quote.opportunity.account_id).order_by("last_name", "id")
    initial = {"title": quote.title, "contact": version.contact_id,
               "currency": version.currency, "price_book": version.price_book_id,
               "tax_region": version.tax_region, "valid_until": version.valid_until,
               "payment_terms": version.payment_terms, "delivery_terms": version.delivery_terms,
               "introduction": version.introduction}
    return TermsForm(data, initial=initial, contacts=contacts)


def _editor_context(request, quote: Quote, version: QuoteVersion | None = None) -> dict:
    user = request.user
    current = services.current_version(quote)
    version = version or current
    is_current = version.pk == current.pk
    can_change = access.can_change(user, quote)
    editable = is_current and can_change and quote.status == QuoteStatus.DRAFT
    approvals = list(version.approvals.select_related("decided_by", "decided_for", "assignee")
                     .order_by("step", "id"))
    pending_turn = min((a.step for a in approvals if a.status == "pending"), default=None)
    decidable = {a.pk for a in approvals if a.status == "pending" and a.step == pending_turn
                 and quote.status == QuoteStatus.IN_APPROVAL and is_current
                 and access.can_decide(user, a, quote)}
    needed = services.pending_requirements(version) if editable else []
    steps = [(a, label) for a, label in NEXT_STEPS[QuoteStatus(quote.status)]
             if can_change and is_current and not (a == "send" and needed)]
    return {
        "nav_section": NAV, "quote": quote, "version": version, "is_current": is_current,
        "lines": list(version.lines.order_by("position")),
        "editable": editable, "can_change": can_change,
        "steps": steps,
        "terms_form": _terms_form(user, quote, version) if editable else None,
        "line_form": LineForm() if editable else None,
        "approvals": approvals, "decidable": decidable, "needed": needed,
        "comment_form": CommentForm(),
        "versions": list(quote.versions.order_by("-number")),
        "can_new_version": can_change and is_current and quote.status != QuoteStatus.ACCEPTED,
    }


@login_required
def quote_detail(request, pk: int):
    quote = _quote(request, pk)
    context = _editor_context(request, quote)
    template = "proposals/quote_detail.html"
    if request.htmx and request.GET.get("part") == "lines":
        template += "#lines"
    return render(request, template, context)


@login_required
def version_detail(request, pk: int, number: int):
    quote = _quote(request, pk)
    version = quote.versions.filter(number=number).first()
    if version is None:
        raise Http404("No such version of this quote.")
    return render(request, "proposals/quote_detail.html",
                  _editor_context(request, quote, version))


@login_required
@require_POST
def quote_terms(request, pk: int):
    quote = _quote(request, pk)
    access.require_change(request.user, quote)
    form = _terms_form(request.user, quote, services.current_version(quote), request.POST)
    if not form.is_valid():
        messages.error(request, f"Check the terms: {_problems(form)}")
        return redirect("web:proposals:detail", quote.pk)
    data = dict(form.cleaned_data)
    return _apply(request, quote, lambda: services.update_quote(
        quote, by=request.user, data=data, expected_version=posted_version(request.POST)),
        "Terms saved.")


def _lines_response(request, quote: Quote, error: str = ""):
    """The lines part of the editor for htmx, or the whole page otherwise."""
    if request.htmx:
        context = _editor_context(request, _quote(request, quote.pk))
        context["line_error"] = error
        return render(request, "proposals/quote_detail.html#lines", context)
    if error:
        messages.error(request, error)
    return redirect("web:proposals:detail", quote.pk)


@login_required
@require_POST
def line_add(request, pk: int):
    quote = _quote(request, pk)
    access.require_change(request.user, quote)
    form = LineForm(request.POST)
    if not form.is_valid():
        return _lines_response(request, quote, f"Check the line: {_problems(form)}")
    data = form.cleaned_data
    try:
        services.add_line(quote, by=request.user, product_id=data["product"].pk,
                          quantity=data["quantity"], discount_pct=data["discount_pct"],
                          expected_version=posted_version(request.POST))
    except ValidationError as exc:
        return _lines_response(request, quote, " ".join(
            f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
            if hasattr(exc, "error_dict") else " ".join(exc.messages))
    return _lines_response(request, quote)


def _line(quote: Quote, line_pk: int) -> QuoteLine:
    line = QuoteLine.objects.filter(pk=line_pk, quote_version__quote=quote,
                                    quote_version__number=quote.current_number).first()
    if line is None:
        raise Http404("No such line on the current version.")
    return line


@login_required
@require_POST
def line_change(request, pk: int, line_pk: int):
    quote = _quote(request, pk)
    access.require_change(request.user, quote)
    line = _line(quote, line_pk)
    form = LineChangeForm(request.POST)
    if not form.is_valid():
        return _lines_response(request, quote, f"Check the line: {_problems(form)}")
    try:
        services.update_line(quote, line, by=request.user,
                             expected_version=posted_version(request.POST), **form.cleaned_data)
    except ValidationError as exc:
        return _lines_response(request, quote, " ".join(exc.messages))
    return _lines_response(request, quote)


@login_required
@require_POST
def line_remove(request, pk: int, line_pk: int):
    quote = _quote(request, pk)
    access.require_change(request.user, quote)
    line = _line(quote, line_pk)
    try:
        services.remove_line(quote, line, by=request.user,
                             expected_version=posted_version(request.POST))
    except ValidationError as exc:
        return _lines_response(request, quote, " ".join(exc.messages))
    return _lines_response(request, quote)


@login_required
@require_POST
def quote_transition(request, pk: int, action: str):
    quote = _quote(request, pk)
    if action not in services.TRANSITIONS:
        raise Http404(f"No quote action {action!r}.")
    labels = {"submit": "submitted", "send": "marked as sent", "accept": "accepted",
              "reject": "marked as rejected"}
    version = posted_version(request.POST)
    return _apply(request, quote, lambda: services.TRANSITIONS[action](
        quote, by=request.user, expected_version=version),
                  f"Quote {quote.number} {labels[action]}.")


@login_required
@require_POST
def quote_new_version(request, pk: int):
    quote = _quote(request, pk)
    version = posted_version(request.POST)
    return _apply(request, quote, lambda: services.new_version(
        quote, by=request.user, expected_version=version),
                  f"Version {quote.current_number + 1} started as a draft.")


@login_required
@require_POST
def quote_delete(request, pk: int):
    quote = _quote(request, pk)
    opportunity_pk = quote.opportunity_id
    try:
        services.delete_quote(quote, by=request.user,
                              expected_version=posted_version(request.POST))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("web:proposals:detail", quote.pk)
    messages.success(request, f"Quote {quote.number} deleted.")
    return redirect("web:opportunity_detail", opportunity_pk)


@login_required
@require_POST
def approval_decide(request, pk: int, approval_pk: int, decision: str):
    quote = _quote(request, pk)
    approval = Approval.objects.filter(pk=approval_pk, quote_version__quote=quote).first()
    if approval is None or decision not in ("approve", "reject"):
        raise Http404("No such approval on this quote.")
    form = CommentForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    version = posted_version(request.POST)
    if decision == "approve":
        change: Callable[[], object] = lambda: services.approve(  # noqa: E731
            approval, by=request.user, comment=comment, expected_version=version)
    else:
        change = lambda: services.reject_approval(  # noqa: E731
            approval, by=request.user, comment=comment, expected_version=version)
    response = _apply(request, quote, change,
                      "Approved." if decision == "approve" else "Rejected; the quote is back "
                                                                "to draft.")
    if request.POST.get("next") == "inbox":
        return redirect("web:proposals:inbox")
    return response


@login_required
def approval_inbox(request):
    items = []
    for approval in selectors.approval_inbox(request.user)[:100]:
        version = approval.quote_version
        items.append({"approval": approval, "quote": version.quote, "version": version,
                      "lines": [line for line in version.lines.order_by("position")
                                if _flagged(line, approval)]})
    return render(request, "proposals/inbox.html", {
        "nav_section": NAV, "items": items, "comment_form": CommentForm()})


def _flagged(line: QuoteLine, approval: Approval) -> bool:
    positions = {entry["line"] for reason in approval.reasons for entry in reason["lines"]}
    return line.position in positions


@login_required
def quote_pdf(request, pk: int):
    quote = _quote(request, pk)
    number = request.GET.get("version") or quote.current_number
    version = quote.versions.filter(number=number).first() if str(number).isdigit() else None
    if version is None:
        raise Http404("No such version of this quote.")
    response = HttpResponse(render_pdf(quote, version), content_type="application/pdf")
    response["Content-Disposition"] = (f'attachment; filename="{quote.number}-'
                                       f'v{version.number}.pdf"')
    return response


@login_required
def opportunity_panel(request, pk: int):
    try:
        opportunity = get_visible(Opportunity, request.user, pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    return render(request, "proposals/opportunity_panel.html", {
        "opportunity": opportunity,
        "quotes": list(selectors.quotes_of_opportunity(request.user, opportunity.pk)[:50]),
        "can_create": opportunity.status == StageKind.OPEN and has_permission(
            request.user, "opportunity", "change", opportunity),
        "form": NewQuoteForm(),
    })


# --- Admins: the approval matrix and the proposal template -------------------------------


@login_required
def matrix(request):
    rules = list(ApprovalRule.objects.all())
    is_admin = request.user.is_admin
    if request.method == "POST":
        if not is_admin:
            raise PermissionDenied("Only administrators may change the approval matrix.")
        rule_pk = request.POST.get("rule")
        instance = ApprovalRule.objects.filter(pk=rule_pk).first() if rule_pk else None
        if rule_pk and instance is None:
            raise Http404("No such rule.")
        form = RuleForm(request.POST, instance=instance,
                        prefix=f"r{instance.pk}" if instance else None)
        if form.is_valid():
            data = {name: form.cleaned_data[name] for name in form.Meta.fields}
            try:
                if instance is None:
                    settings_services.create_rule(by=request.user, data=data)
                else:
                    settings_services.update_rule(ApprovalRule.objects.get(pk=instance.pk),
                                                  by=request.user, data=data,
                                                  expected_version=posted_version(request.POST))
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, "Approval matrix saved.")
                return redirect("web:proposals:matrix")
        else:
            messages.error(request, f"Check the rule: {_problems(form)}")
    return render(request, "proposals/matrix.html", {
        "nav_section": NAV, "rules": [(rule, RuleForm(instance=rule, prefix=f"r{rule.pk}"))
                                      for rule in rules],
        "is_admin": is_admin, "form": RuleForm() if is_admin else None})


@login_required
@require_POST
def matrix_delete(request, rule_pk: int):
    rule = ApprovalRule.objects.filter(pk=rule_pk).first()
    if rule is None:
        raise Http404("No such rule.")
    settings_services.delete_rule(rule, by=request.user,
                                  expected_version=posted_version(request.POST))
    messages.success(request, f"Rule “{rule.name}” removed.")
    return redirect("web:proposals:matrix")


@login_required
def proposal_template(request):
    access.require_admin(request.user, "the proposal template")
    current = template_settings()
    form = TemplateForm(request.POST or None, initial={
        "html": current.html or built_in_html(), "primary_colour": current.primary_colour,
        "accent_colour": current.accent_colour})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        html = "" if data["html"].strip() == built_in_html().strip() else data["html"]
        try:
            settings_services.save_template(by=request.user, html=html,
                                            primary_colour=data["primary_colour"],
                                            accent_colour=data["accent_colour"])
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, "Proposal template saved.")
            return redirect("web:proposals:template")
    return render(request, "proposals/template.html", {
        "nav_section": NAV, "form": form, "is_built_in": not current.html})
