"""Single sign-on through a real OpenID provider (oidc-provider under node, on loopback)
and a password login with two-factor authentication, driven in Chromium."""

import re
import urllib.request

import pyotp
import pytest
from playwright.sync_api import expect

from salesplan.core.models import AuditEntry
from salesplan.org.models import Role, User
from salesplan.signon import services, two_factor
from salesplan.signon.models import ProviderAccount
from tests.signon.conftest import start_provider

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

ACCOUNTS = {
    "carla": {"email": "carla@example.test", "email_verified": True,
              "preferred_username": "carla", "given_name": "Carla", "family_name": "Mendes",
              "groups": ["crm-west", "crm-managers"]},
    "outsider": {"email": "outsider@example.test", "email_verified": True,
                 "preferred_username": "outsider", "groups": ["contractors"]},
}


@pytest.fixture(autouse=True)
def warm_live_server(live_server):
    """The live server's first request imports every app's pages, which on a busy machine
    takes longer than a journey step may; it is made here, before the journey."""
    with urllib.request.urlopen(f"{live_server.url}/login/", timeout=300) as answer:  # noqa: S310
        assert answer.status == 200


@pytest.fixture
def provider(live_server, settings):
    running = start_provider(f"{live_server.url}/signon/oidc/callback/", ACCOUNTS)
    settings.SALESPLAN_OIDC = running.settings("Acme Identity")
    yield running
    running.stop()


def sign_in_at_provider(page, account: str) -> None:
    """The provider's own log-in and consent pages (its development interactions)."""
    page.goto("/login/")
    page.get_by_role("link", name="Sign in with Acme Identity").click()
    page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/interaction/"))
    page.locator("input[name=login]").fill(account)
    page.locator("input[name=password]").fill("any password")
    page.locator("button[type=submit]").click()
    if "/interaction/" in page.url:  # the consent step
        page.locator("button[type=submit]").click()


def test_sign_in_with_the_provider_as_the_mapped_role_and_team(page, org, provider):
    services.create_mapping(by=org.admin, group="crm-west", team_id=org.west.pk)
    services.create_mapping(by=org.admin, group="crm-managers", role=Role.MANAGER)

    sign_in_at_provider(page, "carla")

    expect(page).to_have_url(re.compile(r"^http://localhost:\d+/$"))
    expect(page.locator(".user-menu summary")).to_have_text("Carla Mendes")
    carla = User.objects.get(username="carla")
    assert (carla.role, carla.team, carla.email) == (Role.MANAGER, org.west,
                                                      "carla@example.test")
    assert ProviderAccount.objects.get(user=carla).issuer == provider.issuer
    assert AuditEntry.objects.filter(record_id=carla.pk, field="sign_on").exists()
    page.locator(".user-menu summary").click()
    expect(page.locator(".user-menu-panel")).to_contain_text("Sales manager · West")


def test_the_provider_cannot_sign_in_a_deactivated_or_unmapped_person(page, org, provider):
    services.create_mapping(by=org.admin, group="crm-west", team_id=org.west.pk)
    User.objects.create_user("carla.m", email="carla@example.test", is_active=False)

    sign_in_at_provider(page, "carla")
    expect(page.get_by_text("deactivated")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/"))

    page.context.clear_cookies()  # a new person at the provider
    sign_in_at_provider(page, "outsider")
    expect(page.get_by_text("in no group")).to_be_visible()
    assert not User.objects.filter(username="outsider").exists()


def test_the_login_page_offers_sign_on_only_when_configured(page, settings):
    settings.SALESPLAN_OIDC = {}
    page.goto("/login/")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Sign in with"))).to_have_count(0)


def test_set_up_two_factor_and_log_in_with_a_code(page, org):
    log_in(page, org.west_rep, org.password)
    page.goto("/signon/two-factor/")
    page.get_by_role("button", name="Set up two-factor authentication").click()
    secret = page.locator("[data-totp-secret]").inner_text()
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("[data-recovery-codes] li")).to_have_count(10)
    recovery = page.locator("[data-recovery-codes] li").first.inner_text()
    assert two_factor.has_two_factor(org.west_rep)

    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Log out").click()
    log_in(page, org.west_rep, org.password)
    expect(page).to_have_url(re.compile(r"/signon/verify/"))
    page.goto("/accounts/")
    expect(page).to_have_url(re.compile(r"/signon/verify/"))
    page.get_by_label("Authentication code").fill(recovery)
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/accounts/$"))
    expect(page.get_by_text("You used a recovery code")).to_be_visible()
