"""Salesplan settings.

Everything that differs between a laptop and production comes from the environment:
SALESPLAN_SECRET_KEY, DATABASE_URL, SALESPLAN_ALLOWED_HOSTS, SALESPLAN_DEBUG,
SALESPLAN_PRODUCTION, SALESPLAN_HTTPS, SALESPLAN_SSL_REDIRECT, SALESPLAN_TASK_BROKER,
SALESPLAN_CACHE_URL, SALESPLAN_EMAIL_URL.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parents[3]
PACKAGE_DIR = Path(__file__).resolve().parents[1]
VAR_DIR = Path(os.environ.get("SALESPLAN_VAR_DIR", BASE_DIR / "var"))


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


PRODUCTION = env_flag("SALESPLAN_PRODUCTION")
DEBUG = env_flag("SALESPLAN_DEBUG", default=not PRODUCTION)

# A development key is generated only outside production; production refuses to start
# without a real one (see the check below).
SECRET_KEY = os.environ.get("SALESPLAN_SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise RuntimeError("SALESPLAN_SECRET_KEY must be set when SALESPLAN_PRODUCTION=1")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production-" + "x" * 20

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("SALESPLAN_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("SALESPLAN_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "salesplan.core",
    "salesplan.org",
    "salesplan.signon",
    "salesplan.customers",
    "salesplan.pipeline",
    "salesplan.activities",
    "salesplan.inbox",
    "salesplan.imports",
    "salesplan.search",
    "salesplan.territories",
    "salesplan.metrics",
    "salesplan.planning",
    "salesplan.pricing",
    "salesplan.proposals",
    "salesplan.reports",
    "salesplan.forecasting",
    "salesplan.health",
    "salesplan.quality",
    "salesplan.compensation",
    "salesplan.marketing",
    "salesplan.scoring",
    "salesplan.collab",
    "salesplan.savedviews",
    "salesplan.mail",
    "salesplan.visits",
    "salesplan.web",
    "salesplan.demo",
    "salesplan.config",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside the CSRF and session layers, so their refusals on /api/ are problem details.
    "salesplan.core.edge.ApiEdgeMiddleware",
    "salesplan.core.security_log.RefusalLogMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A password login that still owes its second factor reaches only the pages giving it.
    "salesplan.signon.session.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Company settings, team tree and names read once per GET request, not once per use.
    "salesplan.core.request_memo.RequestMemoMiddleware",
    "salesplan.core.middleware.CompanyTimezoneMiddleware",
    "salesplan.core.middleware.StaleChangeMiddleware",
    "salesplan.core.middleware.DatabaseLostMiddleware",
]

ROOT_URLCONF = "salesplan.config.urls"
WSGI_APPLICATION = "salesplan.config.wsgi.application"
ASGI_APPLICATION = "salesplan.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "salesplan.web.context_processors.company",
            ],
            # `{% url %}` from remembered address shapes (core.page_urls): a third of a
            # long page's processor time went into reversing addresses.
            "builtins": ["salesplan.core.templatetags.page_urls"],
        },
    }
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'salesplan.sqlite3'}",
        conn_max_age=int(os.environ.get("SALESPLAN_DB_CONN_MAX_AGE", "60")),
        # A kept connection is checked before a request reuses it, so one the database
        # dropped (a restart, a failover, an idle timeout) is replaced, not failed on.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A fresh checkout has no var/ yet; SQLite can create the file but not its folder.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Connections are kept (CONN_MAX_AGE above) on SQLite too: a new connection parses
    # the whole schema on first use, about 2 ms of CPU, which a request should not pay.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL lets readers and one writer work at once; IMMEDIATE avoids
            # "database is locked" on upgrade from read to write.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA cache_size=-200000; PRAGMA mmap_size=1073741824; PRAGMA temp_store=MEMORY;"
            ),
        }
    )

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: PostgreSQL compiles a query once its estimated cost is high, and
    # the estimate of a query with correlated subqueries (quality checks, visibility
    # rules) is high even when it reads a few hundred rows. Compiling took 0.74 s of a
    # rep's 0.81 s "quotes beyond policy" list at 5M deals; the execution took 0.08 s.
    # A DATABASE_URL with its own ?options=… keeps them.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")

if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    # Job progress goes through a second connection that commits each update at once, so
    # a job writing everything in one transaction still shows progress (core.jobs). In
    # tests it is the same test database.
    DATABASES["job_progress"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "org.User"
AUTHENTICATION_BACKENDS = ["salesplan.org.auth.UsernameOrEmailBackend"]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:my_day"
LOGOUT_REDIRECT_URL = "web:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# How many reverse proxies of our own stand in front of the site (SALESPLAN_TRUSTED_PROXIES):
# the web-form capture allowance then counts the visitor's address as the nearest of them
# wrote it into X-Forwarded-For. 0 (the default): the connection's own address.
MARKETING_TRUSTED_PROXIES = int(os.environ.get("SALESPLAN_TRUSTED_PROXIES", "0"))

# Login throttling: this many failures per username or per client address within the
# window lock further attempts until the window passes.
LOGIN_MAX_FAILURES = int(os.environ.get("SALESPLAN_LOGIN_MAX_FAILURES", "5"))
LOGIN_FAILURE_WINDOW_SECONDS = int(os.environ.get("SALESPLAN_LOGIN_FAILURE_WINDOW", "900"))

# Single sign-on with an OpenID Connect provider (salesplan.signon). Off unless the issuer
# (or its discovery address) and the client id are set; the login page then offers
# "Sign in with <SALESPLAN_OIDC_PROVIDER_NAME>".
SALESPLAN_OIDC = {
    "issuer": os.environ.get("SALESPLAN_OIDC_ISSUER", ""),
    "discovery_url": os.environ.get("SALESPLAN_OIDC_DISCOVERY_URL", ""),
    "client_id": os.environ.get("SALESPLAN_OIDC_CLIENT_ID", ""),
    "client_secret": os.environ.get("SALESPLAN_OIDC_CLIENT_SECRET", ""),
    "provider_name": os.environ.get("SALESPLAN_OIDC_PROVIDER_NAME", "single sign-on"),
    "scopes": os.environ.get("SALESPLAN_OIDC_SCOPES", "openid email profile groups"),
    "groups_claim": os.environ.get("SALESPLAN_OIDC_GROUPS_CLAIM", "groups"),
}

CACHE_URL = os.environ.get("SALESPLAN_CACHE_URL", "")
CACHES: dict[str, dict[str, object]]
if CACHE_URL.startswith("redis://"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "salesplan_cache",
            # Visibility is cached per user: Django's default of 300 entries would cull
            # a third of them whenever a few hundred people are at work.
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        }
    }

# Background work goes through django.tasks. Without a broker tasks run inline (the
# embedded default); with SALESPLAN_TASK_BROKER (redis://… or amqp://…) they go to a
# Celery worker pool: `salesplan worker`.
TASK_BROKER_URL = os.environ.get("SALESPLAN_TASK_BROKER", "")
if TASK_BROKER_URL:
    TASKS = {
        "default": {
            "BACKEND": "salesplan.core.task_backend.CeleryTaskBackend",
            "OPTIONS": {"broker_url": TASK_BROKER_URL},
        }
    }
else:
    TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Front-end files from npm: only those the pages load (config/vendor_files.py).
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "salesplan.config.vendor_files.VendorFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024



def mailer_from_url(url: str) -> dict:
    """SALESPLAN_EMAIL_URL -> a MAILERS entry.

    smtp://user:password@host:587?tls=1 (or smtps:// for implicit TLS), console://,
    file:///path/to/dir, locmem://, dummy://. Empty means print mail to the console.
    """
    from urllib.parse import parse_qs, unquote, urlsplit

    parts = urlsplit(url or "console://")
    backends = "django.core.mail.backends."
    if parts.scheme in {"smtp", "smtps"}:
        query = parse_qs(parts.query)
        options: dict[str, object] = {
            "host": parts.hostname or "localhost",
            "port": parts.port or (465 if parts.scheme == "smtps" else 25),
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_ssl": parts.scheme == "smtps",
            "use_tls": query.get("tls", ["0"])[0].lower() in {"1", "true", "yes"},
            "timeout": int(query.get("timeout", ["30"])[0]),
        }
        return {"BACKEND": backends + "smtp.EmailBackend", "OPTIONS": options}
    if parts.scheme == "file":
        return {"BACKEND": backends + "filebased.EmailBackend",
                "OPTIONS": {"file_path": unquote(parts.path)}}
    if parts.scheme in {"console", "locmem", "dummy"}:
        return {"BACKEND": f"{backends}{parts.scheme}.EmailBackend"}
    raise ValueError(f"SALESPLAN_EMAIL_URL: unsupported scheme {parts.scheme!r}")


# Django 6.1 configures outgoing mail with MAILERS (EMAIL_BACKEND is deprecated).
# Production defaults to the host's own mail relay; development prints mail to the console.
MAILERS = {
    "default": mailer_from_url(
        os.environ.get("SALESPLAN_EMAIL_URL", "smtp://localhost:25" if PRODUCTION else "")
    )
}
DEFAULT_FROM_EMAIL = os.environ.get("SALESPLAN_FROM_EMAIL", "salesplan@localhost")
# Where people reach this installation: links in emails (invitations, password resets)
# sent from the command line start with it; pages and the API use the address asked.
SALESPLAN_BASE_URL = os.environ.get("SALESPLAN_BASE_URL", "http://localhost:8000")

# Content security policy: no inline script anywhere, so the policy can be strict.
from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Served over HTTPS (directly or behind a TLS proxy): cookies only travel encrypted and
# browsers are told to stay on HTTPS. Production assumes it; an operator serving plain
# HTTP on a private network turns it off with SALESPLAN_HTTPS=0, or login cookies would
# never come back.
HTTPS = env_flag("SALESPLAN_HTTPS", default=PRODUCTION)
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SALESPLAN_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Redirecting plain HTTP to HTTPS is its own switch (on with HTTPS by default): a TLS proxy
# in front may do it already, and on a plain-HTTP network it would send every visitor to
# an address that answers nothing.
SECURE_SSL_REDIRECT = env_flag("SALESPLAN_SSL_REDIRECT", default=HTTPS)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SALESPLAN_LOG_LEVEL", "WARNING")},
}

# Lists never count past this many rows: a count over a million rows costs more than
# the page itself, and "10,000+" is what a person needs to know.
LIST_COUNT_LIMIT = 10_000
LIST_PAGE_SIZE = 50
