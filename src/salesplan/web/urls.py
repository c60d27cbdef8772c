from django.urls import include, path

from salesplan.org import views_settings

from .views import activities, auth, bulk, calendar, cells, customers, home, pipeline, search

app_name = "web"

urlpatterns = [
    path("", home.home, name="my_day"),
    path("my-day/", home.my_day, name="my_own_day"),
    path("home/forecast/", home.company_forecast, name="home_forecast"),
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    # Accounts, contacts, leads
    path("accounts/", customers.account_list, name="account_list"),
    path("accounts/bulk/", bulk.bulk_page, {"resource": "account"}, name="account_bulk"),
    path("accounts/new/", customers.account_create, name="account_create"),
    path("accounts/<int:pk>/", customers.account_detail, name="account_detail"),
    path("accounts/<int:pk>/edit/", customers.account_edit, name="account_edit"),
    path("accounts/<int:pk>/delete/", customers.account_delete, name="account_delete"),
    path("contacts/", customers.contact_list, name="contact_list"),
    path("contacts/bulk/", bulk.bulk_page, {"resource": "contact"}, name="contact_bulk"),
    path("contacts/new/", customers.contact_create, name="contact_create"),
    path("contacts/<int:pk>/", customers.contact_detail, name="contact_detail"),
    path("contacts/<int:pk>/edit/", customers.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/delete/", customers.contact_delete, name="contact_delete"),
    path("leads/", customers.lead_list, name="lead_list"),
    path("leads/bulk/", bulk.bulk_page, {"resource": "lead"}, name="lead_bulk"),
    path("leads/new/", customers.lead_create, name="lead_create"),
    path("leads/<int:pk>/", customers.lead_detail, name="lead_detail"),
    path("leads/<int:pk>/edit/", customers.lead_edit, name="lead_edit"),
    path("leads/<int:pk>/delete/", customers.lead_delete, name="lead_delete"),
    path("leads/<int:pk>/convert/", customers.lead_convert, name="lead_convert"),
    *(path(f"{resource}s/<int:pk>/merge-details/", customers.merge_details,
           {"resource": resource}, name=f"{resource}_merge_details")
      for resource in ("account", "contact", "lead")),
    # Inline edit of one cell of a list
    path("cells/<str:resource>/<int:pk>/<str:name>/", cells.cell, name="list_cell"),
    # Opportunities and the board
    path("opportunities/", pipeline.opportunity_list, name="opportunity_list"),
    path("opportunities/bulk/", bulk.bulk_page, {"resource": "opportunity"},
         name="opportunity_bulk"),
    path("opportunities/new/", pipeline.opportunity_create, name="opportunity_create"),
    path("opportunities/<int:pk>/", pipeline.opportunity_detail, name="opportunity_detail"),
    path("opportunities/<int:pk>/edit/", pipeline.opportunity_edit, name="opportunity_edit"),
    path("opportunities/<int:pk>/delete/", pipeline.opportunity_delete, name="opportunity_delete"),
    path("opportunities/<int:pk>/move/", pipeline.opportunity_move, name="opportunity_move"),
    path("opportunities/<int:pk>/close/<str:outcome>/", pipeline.opportunity_close,
         name="opportunity_close"),
    path("opportunities/<int:pk>/reopen/", pipeline.opportunity_reopen,
         name="opportunity_reopen"),
    path("opportunities/<int:pk>/move-menu/", pipeline.card_move_menu, name="card_move_menu"),
    path("pipeline/", pipeline.board, name="board"),
    path("pipeline/<int:pipeline_id>/summaries/", pipeline.board_summaries,
         name="board_summaries"),
    path("pipeline/stages/<int:stage_id>/cards/", pipeline.board_cards, name="board_cards"),
    path("pipeline/stages/<int:stage_id>/quick-add/", pipeline.board_quick_add,
         name="board_quick_add"),
    # The selling log
    path("activities/", activities.activity_list, name="activity_list"),
    path("activities/new/", activities.activity_create, name="activity_create"),
    path("activities/<int:pk>/", activities.activity_detail, name="activity_detail"),
    path("activities/<int:pk>/edit/", activities.activity_edit, name="activity_edit"),
    path("activities/<int:pk>/delete/", activities.activity_delete, name="activity_delete"),
    path("activities/<int:pk>/done/", activities.activity_done, name="activity_done"),
    path("log/<str:resource>/<int:pk>/", activities.log_on_record, name="log_activity"),
    # Search and pickers
    path("search/", search.search_page, name="search"),
    path("search/suggest/", search.search_suggest, name="search_suggest"),
    path("lookup/<str:kind>/", search.lookup, name="lookup"),
    # Settings, profile, calendar feed
    path("settings/", views_settings.company_settings, name="company_settings"),
    path("settings/holidays/", views_settings.holiday_add, name="holiday_add"),
    path("settings/holidays/<int:pk>/remove/", views_settings.holiday_remove,
         name="holiday_remove"),
    path("", include("salesplan.org.urls")),  # people, teams, invitation and reset links
    path("profile/", views_settings.profile, name="profile"),
    path("profile/calendar/", views_settings.calendar_token, name="calendar_token"),
    path("calendar/<str:token>.ics", calendar.calendar_feed, name="calendar_feed"),
    # Import and export pages live in salesplan.imports (its own urls, added here).
    path("", include("salesplan.imports.urls")),
    path("territories/", include("salesplan.territories.urls")),
    path("plans/", include("salesplan.planning.urls")),
    path("pricing/", include("salesplan.pricing.urls")),
    path("quotes/", include("salesplan.proposals.urls")),
    path("reports/", include("salesplan.reports.urls")),
    path("forecasts/", include("salesplan.forecasting.urls")),
    path("health/", include("salesplan.health.urls")),
    path("quality/", include("salesplan.quality.urls")),
    path("marketing/", include("salesplan.marketing.urls")),
    path("scoring/", include("salesplan.scoring.urls")),
    path("comp/", include("salesplan.compensation.urls")),
    path("views/", include("salesplan.savedviews.urls")),
    path("collab/", include("salesplan.collab.urls")),
    path("mail/", include("salesplan.mail.urls")),
    path("inbox/", include("salesplan.inbox.urls")),
    path("signon/", include("salesplan.signon.urls")),
]
