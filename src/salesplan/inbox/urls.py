from django.urls import path

from . import views

app_name = "inbox"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/dismiss/", views.dismiss, name="dismiss"),
    path("preferences/", views.preferences, name="preferences"),
    path("badge/", views.badge, name="badge"),
]
