from django.urls import path

from . import views

app_name = "mail"

urlpatterns = [
    path("contacts/<int:pk>/", views.contact_panel, name="contact_panel"),
    path("accounts/<int:pk>/", views.account_panel, name="account_panel"),
    path("leads/<int:pk>/", views.lead_panel, name="lead_panel"),
    path("opportunities/<int:pk>/", views.opportunity_panel, name="opportunity_panel"),
    path("<str:kind>/<int:pk>/compose/", views.compose, name="compose"),
    path("templates/", views.template_list, name="templates"),
    path("templates/<int:pk>/", views.template_edit, name="template_edit"),
    path("triage/", views.triage, name="triage"),
    path("triage/<int:pk>/<str:action>/", views.triage_action, name="triage_action"),
    path("mailboxes/", views.mailbox_list, name="mailboxes"),
    path("mailboxes/<int:pk>/fetch/", views.mailbox_fetch, name="mailbox_fetch"),
    path("signature/", views.signature, name="signature"),
]
