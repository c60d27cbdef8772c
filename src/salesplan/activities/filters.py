"""How the selling log is filtered and sorted (UI, API, export)."""

from salesplan.core.listing import Column, Filter, ListDefinition

from .models import ActivityKind

ACTIVITY_LIST = ListDefinition(
    filters={
        "owner": Filter("owner_id", "int", "Owner", multiple=True),
        "kind": Filter("kind", label="Type", choices=tuple(ActivityKind.choices), multiple=True),
        "done": Filter("done", "bool", "Done"),
        "account": Filter("account_id", "int", "Account"),
        "contact": Filter("contact_id", "int", "Contact"),
        "opportunity": Filter("opportunity_id", "int", "Opportunity"),
        "lead": Filter("lead_id", "int", "Lead"),
        "due_after": Filter("due_at__date__gte", "date", "Due on or after"),
        "due_before": Filter("due_at__date__lte", "date", "Due on or before"),
    },
    sorts={"due": "due_at", "-due": "-due_at", "created": "created_at",
           "-created": "-created_at"},
    default_sort="-due",
    search_fields=(),
    contains_fields=("subject",),
    search_label="Part of the subject (any case).",
    columns={"subject": Column("Subject", "subject"), "kind": Column("Type", "get_kind_display"),
             "due": Column("Due", "due_at", "due"), "done": Column("Done", "done"),
             "account": Column("Account", "account"), "owner": Column("Owner", "owner"),
             "created": Column("Created", "created_at", "created")},
)
