from django.urls import path

from . import views

app_name = "planning"

urlpatterns = [
    path("", views.plan_list, name="list"),
    path("new/", views.plan_create, name="create"),
    path("<int:pk>/", views.plan_detail, name="detail"),
    path("<int:pk>/status/<str:action>/", views.plan_transition, name="transition"),
    path("<int:pk>/targets/set/", views.plan_target, name="target"),
    path("<int:pk>/allocations/new/", views.plan_allocate, name="allocate"),
    path("<int:pk>/commitments/submit/", views.plan_commit, name="commit"),
    path("<int:pk>/marketing/submit/", views.marketing_commit, name="marketing_commit"),
    path("<int:pk>/revisions/<int:number>/", views.revision_detail, name="revision"),
]
