from django.urls import path

from . import views

app_name = "quality"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("recount/", views.recount, name="recount"),
    path("card/", views.card, name="card"),
    path("checks/<str:key>/", views.check_list, name="check"),
    path("checks/<str:key>/export/<str:fmt>/", views.export, name="export"),
    path("checks/<str:key>/<int:record_id>/fix/", views.fix, name="fix"),
    path("territory/", views.territory, name="territory"),
    path("duplicates/", views.duplicates, name="duplicates"),
    path("duplicates/scan/", views.duplicate_scan, name="duplicate_scan"),
    path("duplicates/<int:pk>/", views.pair, name="pair"),
    path("duplicates/<int:pk>/merge/", views.pair_merge, name="pair_merge"),
    path("duplicates/<int:pk>/dismiss/", views.pair_dismiss, name="pair_dismiss"),
    path("scores/", views.scores, name="scores"),
    path("scores/snapshot/", views.snapshot, name="snapshot"),
    path("policy/", views.policy, name="policy"),
    path("policy/add/", views.policy_add, name="policy_add"),
    path("policy/<int:pk>/remove/", views.policy_remove, name="policy_remove"),
    path("policy/settings/", views.settings_save, name="settings"),
]
