from django.urls import path

from . import views

app_name = "signon"

urlpatterns = [
    path("verify/", views.verify, name="verify"),
    path("two-factor/", views.two_factor_page, name="two_factor"),
    path("two-factor/confirm/", views.enrol_confirm, name="enrol_confirm"),
    path("two-factor/disable/", views.disable, name="disable"),
    path("two-factor/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("oidc/login/", views.oidc_login, name="oidc_login"),
    path("oidc/callback/", views.oidc_callback, name="oidc_callback"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/policy/", views.policy_save, name="policy"),
    path("settings/mappings/add/", views.mapping_add, name="mapping_add"),
    path("settings/mappings/<int:pk>/edit/", views.mapping_edit, name="mapping_edit"),
    path("settings/mappings/<int:pk>/delete/", views.mapping_delete, name="mapping_delete"),
    path("settings/users/<int:pk>/reset/", views.reset_user, name="reset_user"),
]
