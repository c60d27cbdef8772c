from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "reports"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.dashboard_page, name="dashboard"),
    path("r/<slug:key>/", views.report_page, name="report"),
    path("r/<slug:key>/export.<str:fmt>", views.export, name="export"),
    path("r/<slug:key>/save/", views.saved_create, name="save"),
    path("drill/", views.drilldown, name="drilldown"),
    path("saved/", views.saved_list, name="saved"),
    path("saved/<int:pk>/", views.saved_open, name="saved_open"),
    path("saved/<int:pk>/delete/", views.saved_delete, name="saved_delete"),
    path("saved/<int:pk>/schedule/", views.schedule_create, name="schedule"),
    path("schedules/<int:pk>/delete/", views.schedule_delete, name="schedule_delete"),
]
