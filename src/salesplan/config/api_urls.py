from django.urls import path, re_path

from salesplan.config.api import api
from salesplan.core.api_support import api_not_found

urlpatterns = [
    path("", api.urls),
    # Anything else under /api/v1/ answers in the API's error shape, not an HTML page.
    re_path(r"^(?P<rest>.*)$", api_not_found),
]
