from django.urls import path

from . import views, views_settings

app_name = "visits"

urlpatterns = [
    path("today/", views.today, name="today"),
    path("coverage/", views.coverage, name="coverage"),
    path("week/<int:rep>/", views.week, name="week"),
    path("plan/", views.plan, name="plan"),
    path("settings/", views_settings.settings_page, name="settings"),
    path("settings/rules/", views_settings.rule_add, name="rule_add"),
    path("settings/rules/<int:pk>/", views_settings.rule_change, name="rule_change"),
    path("settings/rules/<int:pk>/delete/", views_settings.rule_delete, name="rule_delete"),
    path("what-if/", views.what_if, name="what_if"),
    path("<int:pk>/check-in/", views.check_in, name="check_in"),
    path("<int:pk>/check-out/", views.check_out, name="check_out"),
    path("<int:pk>/skip/", views.skip, name="skip"),
    path("<int:pk>/move/", views.move, name="move"),
]
