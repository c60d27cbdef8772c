from django.urls import path

from . import views

app_name = "savedviews"

urlpatterns = [path("save/", views.save, name="save")]
