from django.urls import path

from . import views

app_name = "scoring"

urlpatterns = [
    path("", views.lead_list, name="leads"),
    path("rules/", views.rules, name="rules"),
    path("rules/<int:pk>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("rescore/", views.rescore_all, name="rescore"),
    path("model/", views.model_page, name="model"),
    path("leads/<int:pk>/panel/", views.lead_panel, name="lead_panel"),
    path("leads/<int:pk>/rescore/", views.lead_rescore, name="lead_rescore"),
]
