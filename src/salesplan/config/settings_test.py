"""Test settings: fast hashing, inline tasks, in-memory cache, no network."""

import os

from .settings import *  # noqa: F403
from .settings import DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if not os.environ.get("SALESPLAN_TASK_BROKER"):
    TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": ""}  # in memory
LOGGING = {"version": 1, "disable_existing_loggers": False}

# CI's worker tests share a database with a `salesplan worker` started separately:
# SALESPLAN_TEST_DATABASE makes pytest create (and drop) the test database under that
# name, i.e. the worker's own DATABASE_URL database.
if os.environ.get("SALESPLAN_TEST_DATABASE"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["SALESPLAN_TEST_DATABASE"]}
