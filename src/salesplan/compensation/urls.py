from django.urls import path

from . import views

app_name = "comp"

urlpatterns = [
    path("", views.my_pay, name="mine"),
    path("team/", views.team, name="team"),
    path("plans/<int:pk>/accept/", views.accept_plan, name="accept"),
    path("plans/<int:pk>/document.pdf", views.plan_pdf, name="plan_pdf"),
    path("statements/<int:pk>/", views.statement, name="statement"),
    path("statements/<int:pk>/statement.pdf", views.statement_pdf, name="statement_pdf"),
    path("statements/<int:pk>/lines/<int:position>/", views.explain_line, name="line"),
    path("statements/<int:pk>/lines/<int:position>/dispute/", views.raise_dispute,
         name="dispute"),
    path("disputes/<int:pk>/answer/", views.answer_dispute, name="answer"),
    path("contests/", views.contest_standings, name="contests"),
    path("contests/settings/<int:team_id>/", views.contest_setting, name="contest_setting"),
    path("periods/", views.periods, name="periods"),
    path("periods/<int:pk>/calculate/", views.calculate_period, name="calculate"),
    path("periods/<int:pk>/close/", views.close_period, name="close"),
    path("periods/<int:pk>/payroll.csv", views.payroll, {"fmt": "csv"}, name="payroll"),
    path("periods/<int:pk>/payroll.xlsx", views.payroll, {"fmt": "xlsx"}, name="payroll_xlsx"),
    path("what-if/", views.what_if, name="what_if"),
    path("accrual/", views.accrual_page, name="accrual"),
    path("mbo/", views.mbo_scores, name="mbo_scores"),
]
