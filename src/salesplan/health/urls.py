from django.urls import path

from . import views

app_name = "health"

urlpatterns = [
    path("", views.at_risk, name="at_risk"),
    path("compute/", views.compute_all, name="compute"),
    path("renewals/", views.renewals, name="renewals"),
    path("accounts/<int:pk>/panel/", views.account_panel, name="account_panel"),
    path("accounts/<int:pk>/recompute/", views.recompute, name="recompute"),
]
