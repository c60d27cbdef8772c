import os

from django.core.asgi import get_asgi_application

from salesplan.config.startup import prepare_process

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesplan.config.settings")
application = get_asgi_application()

prepare_process()
