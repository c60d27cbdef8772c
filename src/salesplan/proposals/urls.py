from django.urls import path

from . import views

app_name = "proposals"

urlpatterns = [
    path("", views.quote_list, name="list"),
    path("approvals/", views.approval_inbox, name="inbox"),
    path("matrix/", views.matrix, name="matrix"),
    path("matrix/<int:rule_pk>/delete/", views.matrix_delete, name="matrix_delete"),
    path("template/", views.proposal_template, name="template"),
    path("opportunity/<int:pk>/panel/", views.opportunity_panel, name="opportunity_panel"),
    path("opportunity/<int:opportunity_pk>/new/", views.quote_create, name="create"),
    path("<int:pk>/", views.quote_detail, name="detail"),
    path("<int:pk>/terms/", views.quote_terms, name="terms"),
    path("<int:pk>/lines/add/", views.line_add, name="line_add"),
    path("<int:pk>/lines/<int:line_pk>/change/", views.line_change, name="line_change"),
    path("<int:pk>/lines/<int:line_pk>/remove/", views.line_remove, name="line_remove"),
    path("<int:pk>/status/<str:action>/", views.quote_transition, name="transition"),
    path("<int:pk>/versions/new/", views.quote_new_version, name="new_version"),
    path("<int:pk>/versions/<int:number>/", views.version_detail, name="version"),
    path("<int:pk>/approvals/<int:approval_pk>/<str:decision>/", views.approval_decide,
         name="decide"),
    path("<int:pk>/pdf/", views.quote_pdf, name="pdf"),
    path("<int:pk>/delete/", views.quote_delete, name="delete"),
]
