"""Production configuration: what an operator gets from the documented environment."""

import json
import os
import subprocess
import sys

import pytest

PRODUCTION_ENV = {
    "SALESPLAN_PRODUCTION": "1",
    "SALESPLAN_SECRET_KEY": "k7#Vq9!pZ2@wL4$rT8^yB1&nM6*cX3(hJ5)dF0_gS9+eA2=uQ7-oI4~vK8%lR1",
    "SALESPLAN_ALLOWED_HOSTS": "sales.example.com",
}


def run_salesplan(*args: str, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SALESPLAN_", "DJANGO_")) and k != "DATABASE_URL"}
    env.update(extra_env or {})
    env["DJANGO_SETTINGS_MODULE"] = "salesplan.config.settings"
    # Any warning, deprecations included, is an error for these commands.
    env["PYTHONWARNINGS"] = "error"
    return subprocess.run(  # noqa: S603 - fixed command line, our own interpreter
        [sys.executable, "-m", "salesplan.cli", *args], env=env, capture_output=True,
        text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def production_settings() -> dict[str, str]:
    """The settings a production process sees, by expression, read in one subprocess."""
    code = ("import json, django; django.setup(); from django.conf import settings; "
            f"print(json.dumps({{e: str(eval(e)) for e in {EXPRESSIONS!r}}}))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESPLAN_")}
    env.update(PRODUCTION_ENV, DJANGO_SETTINGS_MODULE="salesplan.config.settings",
               PYTHONWARNINGS="error")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,  # noqa: S603
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_deploy_check_passes_in_production_mode():
    result = run_salesplan("check", "--deploy", "--fail-level", "WARNING",
                           extra_env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_flags_development_settings():
    # Without SALESPLAN_PRODUCTION the same check must complain (DEBUG on, no HSTS…),
    # which shows the production switch is what makes the check pass.
    result = run_salesplan("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W004" in result.stderr or "security.W004" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {**PRODUCTION_ENV, "SALESPLAN_SECRET_KEY": ""}
    result = run_salesplan("check", extra_env=env)
    assert result.returncode != 0
    assert "SALESPLAN_SECRET_KEY" in result.stderr


PRODUCTION_EXPECTATIONS = {
    "settings.PASSWORD_HASHERS[0]": "django.contrib.auth.hashers.Argon2PasswordHasher",
    "settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE": "True",
    "settings.SECURE_SSL_REDIRECT": "True",
    "settings.SECURE_HSTS_SECONDS >= 31536000": "True",
    "settings.DEBUG": "False",
    "settings.ALLOWED_HOSTS": "['sales.example.com']",
    "\"'self'\" in settings.SECURE_CSP['script-src']": "True",
    "settings.MAILERS['default']['BACKEND']": "django.core.mail.backends.smtp.EmailBackend",
}
EXPRESSIONS = list(PRODUCTION_EXPECTATIONS)


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_production_settings(production_settings, expression):
    assert production_settings[expression] == PRODUCTION_EXPECTATIONS[expression]


def test_email_url_configures_smtp():
    from salesplan.config.settings import mailer_from_url

    mailer = mailer_from_url("smtp://mailer:s%40cret@mail.example.com:587?tls=1")
    assert mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert mailer["OPTIONS"] | {} == {
        "host": "mail.example.com", "port": 587, "username": "mailer", "password": "s@cret",
        "use_ssl": False, "use_tls": True, "timeout": 30}


def test_no_deprecation_warnings_when_sending_mail():
    code = ("import django; django.setup(); from django.core import mail; "
            "mail.send_mail('Hello', 'Body', 'a@example.com', ['b@example.com'])")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESPLAN_")}
    env.update(DJANGO_SETTINGS_MODULE="salesplan.config.settings", PYTHONWARNINGS="error",
               SALESPLAN_EMAIL_URL="locmem://")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,  # noqa: S603
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - localhost
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _start_server(command: list[str], env: dict, port: int, *extra: str) -> subprocess.Popen:
    import time

    server = subprocess.Popen(  # noqa: S603
        [*command, "serve", "--port", str(port), "--workers", "1", "--threads", "2", *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            _get(f"http://127.0.0.1:{port}/login/")
            return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise AssertionError(server.stdout.read() if server.stdout else "server did not start")


def test_serve_runs_the_app_under_gunicorn_with_static_files(tmp_path):
    """`salesplan serve` answers pages and static assets from a fresh data directory.

    Two servers run side by side on one host, debug stays off even when the environment
    asks for it, and neither leaves a control socket in the shared home folder.
    """
    home = tmp_path / "home"
    home.mkdir()
    dropped = {"DATABASE_URL", "XDG_RUNTIME_DIR"}
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SALESPLAN_", "DJANGO_")) and k not in dropped}
    env.update(SALESPLAN_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="salesplan.config.settings",
               HOME=str(home), SALESPLAN_DEBUG="1")
    command = [sys.executable, "-m", "salesplan.cli"]
    migrate = subprocess.run([*command, "migrate", "--noinput"], env=env, capture_output=True,  # noqa: S603
                             text=True, timeout=300, check=False)
    assert migrate.returncode == 0, migrate.stderr
    first_port, second_port = _free_port(), _free_port()
    private_socket = tmp_path / "second.ctl"
    first = _start_server(command, env, first_port)
    try:
        second = _start_server(command, env, second_port, "--control-socket", str(private_socket))
        try:
            for port in (first_port, second_port):
                status, body = _get(f"http://127.0.0.1:{port}/login/")
                assert status == 200 and b"Log in" in body
            status, script = _get(
                f"http://127.0.0.1:{first_port}/static/vendor/htmx.org/dist/htmx.min.js")
            assert status == 200 and b"htmx" in script
            # A debug 404 page lists the URL patterns; the production one does not.
            status, body = _get(f"http://127.0.0.1:{first_port}/no-such-page/")
            assert status == 404
            assert b"URLconf" not in body and b"DEBUG = True" not in body
            assert not (home / ".gunicorn").exists()
            _a_paused_client_keeps_its_connection(first_port)
            assert private_socket.exists()
            assert oct(private_socket.stat().st_mode & 0o777) == "0o600"
        finally:
            second.terminate()
            second.wait(timeout=30)
    finally:
        first.terminate()
        first.wait(timeout=30)


def _a_paused_client_keeps_its_connection(port: int) -> None:
    """A client that pauses between pages (a person reading, an API client between calls,
    a proxy's idle upstream connection) sends its next request on the connection it kept
    open, and is answered: the server does not close idle connections after a couple of
    seconds, when a client may be sending on them (a connection reset for the client)."""
    import http.client
    import time

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for pause in (0, 3):
            time.sleep(pause)
            connection.request("GET", "/login/")
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            assert response.getheader("Connection", "").lower() != "close"
    finally:
        connection.close()


def test_serve_recycles_workers_only_when_asked():
    from salesplan.config.management.commands.serve import max_requests_config

    assert max_requests_config(0) == {}
    assert max_requests_config(10_000) == {"max_requests": 10_000, "max_requests_jitter": 1_000}


def test_plain_http_on_a_private_network_has_a_safe_setting():
    # Production served over plain HTTP: no secure-only cookies (they would never come
    # back, so nobody could log in) and no redirect to an HTTPS that does not answer.
    code = ("import django; django.setup(); from django.conf import settings; "
            "print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.SECURE_SSL_REDIRECT)")
    assert _python(code, **PRODUCTION_ENV, SALESPLAN_HTTPS="0") == "False False False"
    # Behind a TLS proxy that redirects by itself: secure cookies, no redirect of our own.
    assert _python(code, **PRODUCTION_ENV, SALESPLAN_SSL_REDIRECT="0") == "False True False"


def _python(code: str, **env_vars: str) -> str:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SALESPLAN_", "DJANGO_")) and k != "DATABASE_URL"}
    env.update(env_vars, DJANGO_SETTINGS_MODULE="salesplan.config.settings")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,  # noqa: S603
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_web_processes_load_every_page_and_api_route_at_start_up():
    # Otherwise the first visitor of each server process waits while they load.
    code = ("import sys; import salesplan.config.{0}; "
            "print(all(m in sys.modules for m in "
            "('salesplan.forecasting.api', 'salesplan.quality.views')))")
    assert _python(code.format("wsgi")) == "True"
    assert _python(code.format("asgi")) == "True"


def test_web_processes_keep_their_start_up_objects_out_of_full_collections():
    # A full collection walking the loaded code took 160 ms and stalled a request now
    # and then; frozen at start-up, those objects are never walked.
    code = "import gc; import salesplan.config.{0}; print(gc.get_freeze_count() > 100_000)"
    assert _python(code.format("wsgi")) == "True"
    assert _python(code.format("asgi")) == "True"


def test_postgresql_connections_run_without_jit_unless_the_url_says_otherwise():
    code = ("import django; django.setup(); from django.conf import settings; "
            "print(settings.DATABASES['default']['OPTIONS'].get('options'))")
    url = "postgres://app@db.example.com:5432/sales"
    assert _python(code, DATABASE_URL=url) == "-c jit=off"
    assert _python(code, DATABASE_URL=url + "?options=-c%20work_mem%3D64MB") == "-c work_mem=64MB"
    assert _python(code, DATABASE_URL="sqlite:////tmp/salesplan-deploy-test.sqlite3") == "None"
