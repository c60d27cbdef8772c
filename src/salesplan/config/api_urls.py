from django.urls import path

from salesplan.config.api import api

urlpatterns = [path("", api.urls)]
