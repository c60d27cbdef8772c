from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "pricing"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.product_list, name="products"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:pk>/", views.product_detail, name="product"),
    path("products/<int:pk>/edit/", views.product_edit, name="product_edit"),
    path("products/<int:pk>/components/", views.product_components, name="components"),
    path("families/", views.families, name="families"),
    path("families/<int:pk>/edit/", views.family_edit, name="family_edit"),
    path("books/", views.books, name="books"),
    path("books/<int:pk>/", views.book_detail, name="book"),
    path("books/<int:pk>/edit/", views.book_edit, name="book_edit"),
    path("books/<int:pk>/entries/<int:product_id>/delete/", views.entry_delete,
         name="entry_delete"),
    path("rules/", views.rules, name="rules"),
    path("rules/<int:pk>/", views.rule_edit, name="rule"),
    path("tax-rates/", views.tax_rates, name="tax_rates"),
    path("exchange-rates/", views.exchange_rates, name="exchange_rates"),
    path("price-check/", views.price_check, name="price_check"),
]
