"""Accounts, contacts and leads: lists, detail pages, forms, lead conversion."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from salesplan.customers import duplicates, selectors, services
from salesplan.customers.filters import ACCOUNT_LIST, CONTACT_LIST, LEAD_LIST
from salesplan.customers.forms import AccountForm, ContactForm, ConvertLeadForm, LeadForm
from salesplan.customers.models import Account, Contact, Lead, LeadStatus
from salesplan.pipeline.models import Opportunity
from salesplan.ui.forms import add_service_errors
from salesplan.ui.pages import ListSpec, list_page, require_or_403, visible_or_404

from .common import delete_page, detail_context, detail_url, form_page

ACCOUNTS = ListSpec("account", "accounts", "Accounts", ACCOUNT_LIST, selectors.account_list,
                    "customers/account_list.html",
                    ("owner", "lifecycle", "tier", "industry", "state", "country"))
CONTACTS = ListSpec("contact", "contacts", "Contacts", CONTACT_LIST, selectors.contact_list,
                    "customers/contact_list.html", ("owner", "buying_role", "do_not_contact"))
LEADS = ListSpec("lead", "leads", "Leads", LEAD_LIST, selectors.lead_list,
                 "customers/lead_list.html", ("owner", "status", "source", "campaign"))


@login_required
def account_list(request):
    return list_page(request, ACCOUNTS)


@login_required
def contact_list(request):
    return list_page(request, CONTACTS)


@login_required
def lead_list(request):
    return list_page(request, LEADS)


@login_required
def account_detail(request, pk):
    account = visible_or_404(Account, request.user, pk, related=("owner", "parent"))
    user = request.user
    context = detail_context(request, "account", account)
    context.update({
        "contacts": list(Contact.objects.visible_to(user).filter(account=account)
                         .order_by("name_key", "id")[:50]),
        "opportunities": list(Opportunity.objects.visible_to(user).filter(account=account)
                              .select_related("stage", "owner").order_by("-close_date")[:50]),
        "children": selectors.visible_children(user, account),
    })
    return render(request, "customers/account_detail.html", context)


@login_required
def contact_detail(request, pk):
    contact = visible_or_404(Contact, request.user, pk, related=("owner", "account"))
    context = detail_context(request, "contact", contact)
    context["opportunities"] = list(
        Opportunity.objects.visible_to(request.user).filter(contact=contact)
        .select_related("stage").order_by("-close_date")[:50])
    return render(request, "customers/contact_detail.html", context)


@login_required
def lead_detail(request, pk):
    lead = visible_or_404(Lead, request.user, pk, related=(
        "owner", "converted_account", "converted_contact", "converted_opportunity"))
    context = detail_context(request, "lead", lead)
    context["can_convert"] = context["can_change"] and lead.status != LeadStatus.CONVERTED
    return render(request, "customers/lead_detail.html", context)


@login_required
def account_create(request):
    return form_page(request, form_class=AccountForm, resource="account",
                     template="customers/record_form.html", title="New account",
                     success_message="Account created.")


@login_required
def account_edit(request, pk):
    account = visible_or_404(Account, request.user, pk)
    return form_page(request, form_class=AccountForm, resource="account", instance=account,
                     template="customers/record_form.html", title=f"Edit {account}",
                     success_message="Account saved.")


@login_required
def contact_create(request):
    return form_page(request, form_class=ContactForm, resource="contact",
                     template="customers/record_form.html", title="New contact",
                     success_message="Contact created.")


@login_required
def contact_edit(request, pk):
    contact = visible_or_404(Contact, request.user, pk)
    return form_page(request, form_class=ContactForm, resource="contact", instance=contact,
                     template="customers/record_form.html", title=f"Edit {contact}",
                     success_message="Contact saved.")


@login_required
def lead_create(request):
    return form_page(request, form_class=LeadForm, resource="lead",
                     template="customers/record_form.html", title="New lead",
                     success_message="Lead created.")


@login_required
def lead_edit(request, pk):
    lead = visible_or_404(Lead, request.user, pk)
    return form_page(request, form_class=LeadForm, resource="lead", instance=lead,
                     template="customers/record_form.html", title=f"Edit {lead}",
                     success_message="Lead saved.")


MERGEABLE = {"account": (Account, AccountForm), "contact": (Contact, ContactForm),
             "lead": (Lead, LeadForm)}


@login_required
@require_POST
def merge_details(request, resource: str, pk: int):
    """From the duplicate prompt: add the new record's details to the existing one
    instead of creating another (only what the existing record lacks; its version is
    checked and the change audited like any edit)."""
    model, form_class = MERGEABLE[resource]
    record = visible_or_404(model, request.user, pk)
    require_or_403(request.user, resource, "change", record)
    editing = form_class(instance=record, user=request.user)
    fields = [name for name, field in editing.fields.items()
              if name != "version" and not isinstance(field, forms.BooleanField)]
    initial = {name: editing[name].initial for name in fields}
    data, filled, differing = duplicates.details_to_add(record, initial, request.POST, fields)
    form = form_class(data, instance=record, user=request.user)
    if form.is_valid() and form.save() is not None:
        labels = [str(form.fields[name].label or name) for name in filled]
        kept = [str(form.fields[name].label or name) for name in differing]
        text = (f"Added to {record}: {', '.join(labels)}." if labels
                else f"{record} already had every detail you entered.")
        if kept:
            text += f" Kept its own {', '.join(kept)}; change them here if yours are right."
        messages.success(request, text)
        return redirect(detail_url(resource, record.pk))
    return render(request, "customers/record_form.html", {
        "form": form, "object": record, "title": f"Edit {record}", "resource": resource,
        "cancel_url": detail_url(resource, record.pk)})


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request, pk):
    return delete_page(request, model=Account, resource="account", pk=pk,
                       delete_service=services.delete_account, label="Account")


@login_required
@require_http_methods(["GET", "POST"])
def contact_delete(request, pk):
    return delete_page(request, model=Contact, resource="contact", pk=pk,
                       delete_service=services.delete_contact, label="Contact")


@login_required
@require_http_methods(["GET", "POST"])
def lead_delete(request, pk):
    return delete_page(request, model=Lead, resource="lead", pk=pk,
                       delete_service=services.delete_lead, label="Lead")


@login_required
@require_http_methods(["GET", "POST"])
def lead_convert(request, pk):
    """Show likely duplicates and turn the lead into account, contact and deal."""
    lead = visible_or_404(Lead, request.user, pk)
    require_or_403(request.user, "lead", "change", lead)
    if lead.status == LeadStatus.CONVERTED:
        messages.info(request, "This lead has already been converted.")
        return redirect("web:lead_detail", pk=lead.pk)
    duplicates = services.likely_duplicates(lead, by=request.user)
    form = ConvertLeadForm(request.POST or None, lead=lead, duplicates=duplicates,
                           user=request.user,
                           initial={"opportunity_name": f"{lead.company or lead.full_name} – "
                                                        "new business"})
    if request.method == "POST" and form.is_valid():
        conversion = _convert(request, lead, form)
        if conversion is not None:
            messages.success(request, f"{lead.full_name} converted.")
            target = conversion.opportunity or conversion.account
            return redirect(("web:opportunity_detail" if conversion.opportunity
                             else "web:account_detail"), pk=target.pk)
    return render(request, "customers/lead_convert.html",
                  {"lead": lead, "form": form, "duplicates": duplicates})


def _convert(request, lead, form):
    try:
        account_id, contact_id = form.chosen_account_id(), form.chosen_contact_id()
        account = visible_or_404(Account, request.user, account_id) if account_id else None
        contact = visible_or_404(Contact, request.user, contact_id) if contact_id else None
        return services.convert_lead(
            lead, by=request.user, account=account, contact=contact,
            create_opportunity=form.cleaned_data["create_opportunity"],
            opportunity_data=form.opportunity_data())
    except ValidationError as exc:
        add_service_errors(form, exc)
    return None
