"""People and Teams pages (in the settings area) and the pages one-time links open.

Included into the `web` namespace without a namespace of its own, beside the company
settings pages: `web:people_list`, `web:invite_accept`, …"""

from django.urls import path

from . import views_people as views

urlpatterns = [
    path("settings/people/", views.people_list, name="people_list"),
    path("settings/people/invite/", views.person_invite, name="person_invite"),
    path("settings/people/<int:pk>/", views.person_detail, name="person_detail"),
    path("settings/people/<int:pk>/edit/", views.person_update, name="person_update"),
    path("settings/people/<int:pk>/profile/", views.profile_update, name="profile_update"),
    path("settings/people/<int:pk>/invitation/", views.invitation, name="person_invitation"),
    path("settings/people/<int:pk>/password-reset/", views.password_reset_send,
         name="person_password_reset"),
    path("settings/people/<int:pk>/sessions/end/", views.sessions_end, name="person_sessions_end"),
    path("settings/people/<int:pk>/deactivate/", views.person_deactivate,
         name="person_deactivate"),
    path("settings/people/<int:pk>/reactivate/", views.person_reactivate,
         name="person_reactivate"),
    path("settings/teams/", views.team_list, name="team_list"),
    path("settings/teams/<int:pk>/", views.team_edit, name="team_edit"),
    path("invite/<str:token>/", views.invite_accept, name="invite_accept"),
    path("password-reset/", views.password_reset, name="password_reset"),
    path("password-reset/<str:token>/", views.password_set, name="password_set"),
]
