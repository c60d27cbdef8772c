from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("imports/", views.upload, name="upload"),
    path("imports/<int:pk>/map/", views.map_columns, name="map"),
    path("imports/dry-runs/<int:pk>/commit/", views.commit, name="commit"),
    path("exports/<str:resource>.csv", views.export, {"fmt": "csv"}, name="export_csv"),
    path("exports/<str:resource>.xlsx", views.export, {"fmt": "xlsx"}, name="export_xlsx"),
    path("jobs/", views.job_list, name="jobs"),
    path("jobs/<int:pk>/", views.job_detail, name="job"),
    path("jobs/<int:pk>/download/", views.job_download, name="job_download"),
    path("jobs/<int:pk>/errors.csv", views.job_errors_csv, name="job_errors"),
]
