from django.urls import path

from . import views

app_name = "collab"

urlpatterns = [
    path("leads/<int:pk>/comments/", views.lead_comments, name="lead_comments"),
    path("accounts/<int:pk>/comments/", views.account_comments, name="account_comments"),
    path("opportunities/<int:pk>/comments/", views.opportunity_comments,
         name="opportunity_comments"),
    path("<str:kind>/<int:pk>/comments/", views.thread, name="thread"),
    path("comments/<int:pk>/edit/", views.comment_edit, name="comment_edit"),
    path("comments/<int:pk>/delete/", views.comment_delete, name="comment_delete"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification_open"),
    path("notifications/read-all/", views.notifications_read_all, name="read_all"),
    path("notifications/settings/", views.notification_settings, name="settings"),
    path("notifications/badge/", views.badge, name="badge"),
]
