import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesplan.config.settings")
application = get_wsgi_application()

# Import every view and build the API's routes now, at start-up (1.5 s), rather than
# during the first request a visitor makes to this process.
get_resolver().resolve("/")
