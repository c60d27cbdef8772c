from django.urls import URLPattern, URLResolver

app_name = "collab"

urlpatterns: list[URLPattern | URLResolver] = []
