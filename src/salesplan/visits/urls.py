from django.urls import path

from . import views

app_name = "visits"

urlpatterns = [
    path("today/", views.today, name="today"),
    path("coverage/", views.coverage, name="coverage"),
    path("plan/", views.plan, name="plan"),
    path("what-if/", views.what_if, name="what_if"),
    path("<int:pk>/check-in/", views.check_in, name="check_in"),
    path("<int:pk>/check-out/", views.check_out, name="check_out"),
    path("<int:pk>/skip/", views.skip, name="skip"),
    path("<int:pk>/move/", views.move, name="move"),
]
