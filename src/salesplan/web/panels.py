"""Panels that other apps add to a record's page, loaded by htmx after the page.

Each entry is a URL name taking the record's primary key and returning an HTML fragment
(a <section class="card">) that checks visibility itself, like any other view. Loading
them after the page keeps the record page fast and lets each app own its own panel.
"""

from django.urls import reverse

RECORD_PANELS: dict[str, tuple[str, ...]] = {
    "account": ("web:health:account_panel", "web:mail:account_panel",
                "web:collab:account_comments"),
    "contact": ("web:mail:contact_panel",),
    "opportunity": ("web:proposals:opportunity_panel", "web:mail:opportunity_panel",
                    "web:collab:opportunity_comments"),
    "lead": ("web:marketing:lead_panel", "web:scoring:lead_panel", "web:mail:lead_panel",
             "web:collab:lead_comments"),
}


def record_panels(resource: str, pk: int) -> list[str]:
    return [reverse(name, args=[pk]) for name in RECORD_PANELS.get(resource, ())]
