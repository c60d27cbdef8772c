from django.urls import path

from . import views

app_name = "marketing"

urlpatterns = [
    path("", views.campaign_list, name="campaigns"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("attribution/", views.attribution_page, name="attribution"),
    path("forms/", views.form_list, name="forms"),
    path("forms/<int:pk>/", views.form_detail, name="form"),
    path("f/<str:key>/", views.public_form, name="public_form"),
    path("queue/", views.queue_page, name="queue"),
    path("queue/<int:lead_pk>/assign/", views.queue_assign, name="queue_assign"),
    path("policy/", views.policy_page, name="policy"),
    path("capacity/", views.capacity_page, name="capacity"),
    path("capacity/<int:user_id>/", views.capacity_set, name="capacity_set"),
    path("sla/", views.sla_page, name="sla"),
    path("feedback/", views.feedback_page, name="feedback"),
    path("leads/<int:pk>/panel/", views.lead_panel, name="lead_panel"),
    path("leads/<int:pk>/<str:name>/", views.lead_transition, name="lead_transition"),
]
