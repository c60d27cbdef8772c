from django.urls import path

from . import views

app_name = "forecasting"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("submit/", views.submit, name="submit"),
    path("teams/<int:team_id>/adjust/", views.adjust, name="adjust"),
    path("calibration/", views.calibration_page, name="calibration"),
    path("calibration/refresh/", views.refresh, name="refresh"),
    path("statistical/", views.statistical_page, name="statistical"),
    path("snapshots/", views.snapshots_page, name="snapshots"),
    path("snapshots/take/", views.take_snapshot, name="take_snapshot"),
]
