from django.urls import path

from . import views

app_name = "territories"

urlpatterns = [
    path("", views.tree, name="tree"),
    path("alignments/new/", views.alignment_create, name="alignment_create"),
    path("alignments/<int:pk>/assign/", views.alignment_assign, name="alignment_assign"),
    path("alignments/<int:pk>/activate/", views.alignment_activate, name="alignment_activate"),
    path("alignments/<int:pk>/activate/preview/", views.activation_preview,
         name="activation_preview"),
    path("alignments/<int:pk>/what-if/", views.alignment_what_if, name="what_if"),
    path("alignments/<int:pk>/optimise/", views.alignment_optimise, name="optimise"),
    path("optimisations/<int:run_pk>/", views.optimisation_result, name="optimisation"),
    path("alignments/<int:alignment_pk>/new/", views.territory_create, name="territory_create"),
    path("<int:pk>/", views.territory_detail, name="territory"),
    path("<int:pk>/edit/", views.territory_edit, name="territory_edit"),
    path("<int:pk>/delete/", views.territory_delete, name="territory_delete"),
    path("<int:pk>/goals/", views.territory_goals, name="territory_goals"),
    path("<int:pk>/rules/new/", views.rule_create, name="rule_create"),
    path("rules/<int:rule_pk>/edit/", views.rule_edit, name="rule_edit"),
    path("rules/<int:rule_pk>/delete/", views.rule_delete, name="rule_delete"),
    path("rules/preview/", views.rule_preview, name="rule_preview"),
    path("<int:pk>/members/add/", views.member_add, name="member_add"),
    path("members/<int:member_pk>/end/", views.member_end, name="member_end"),
    path("<int:pk>/named/add/", views.named_add, name="named_add"),
    path("named/<int:named_pk>/remove/", views.named_remove, name="named_remove"),
    path("violations/", views.violation_list, name="violations"),
    path("violations/fix/", views.violation_fix, name="violation_fix"),
    path("exceptions/", views.exception_list, name="exceptions"),
    path("exceptions/<int:exception_pk>/<str:decision>/", views.exception_decide,
         name="exception_decide"),
]
