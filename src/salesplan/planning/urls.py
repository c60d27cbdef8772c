from django.urls import path

from . import (
    change_views,
    effort_views,
    evaluation_views,
    my_views,
    resource_views,
    review_views,
    views,
)

app_name = "planning"

urlpatterns = [
    path("", views.plan_list, name="list"),
    path("new/", views.plan_create, name="create"),
    path("alerts/", evaluation_views.alert_list, name="alerts"),
    path("mine/", my_views.my_plan, name="mine"),
    path("<int:pk>/", views.plan_detail, name="detail"),
    path("<int:pk>/status/<str:action>/", views.plan_transition, name="transition"),
    path("<int:pk>/status/<str:action>/confirm/", views.plan_confirm, name="confirm"),
    path("<int:pk>/targets/set/", views.plan_target, name="target"),
    path("<int:pk>/allocations/new/", change_views.allocate_preview, name="allocate"),
    path("<int:pk>/commitments/submit/", views.plan_commit, name="commit"),
    path("<int:pk>/marketing/submit/", views.marketing_commit, name="marketing_commit"),
    path("<int:pk>/revisions/<int:number>/", views.revision_detail, name="revision"),
    path("<int:pk>/effort/", effort_views.effort_page, name="effort"),
    path("<int:pk>/effort/run/", effort_views.effort_start, name="effort_start"),
    path("<int:pk>/effort/judgement/", effort_views.judgement_save, name="judgement"),
    path("<int:pk>/effort/<int:run_id>/", effort_views.effort_run, name="effort_run"),
    path("<int:pk>/effort/<int:run_id>/apply/", effort_views.effort_apply, name="effort_apply"),
    path("<int:pk>/resources/", resource_views.resources_page, name="resources"),
    path("<int:pk>/resources/add/", resource_views.resource_add, name="resource_add"),
    path("<int:pk>/resources/<int:seat>/remove/", resource_views.resource_remove,
         name="resource_remove"),
    path("<int:pk>/resources/leave/", resource_views.leave_add, name="leave_add"),
    path("<int:pk>/resources/budget/", resource_views.budget_add, name="budget_add"),
    path("<int:pk>/actual/", evaluation_views.dashboard, name="evaluation"),
    path("<int:pk>/actual/evaluate/", evaluation_views.evaluate_now, name="evaluate"),
    path("<int:pk>/reviews/", review_views.reviews_page, name="reviews"),
    path("<int:pk>/reviews/new/", review_views.review_create, name="review_create"),
    path("<int:pk>/reviews/<int:review_id>/", review_views.review_detail, name="review"),
    path("<int:pk>/replan/", change_views.replan_preview, name="replan"),
    path("<int:pk>/changes/apply/", change_views.change_apply, name="change_apply"),
    path("<int:pk>/changes/<int:job_id>/", change_views.change_job, name="change"),
    path("<int:pk>/changes/<int:job_id>/undo/", change_views.undo_preview, name="change_undo"),
]
