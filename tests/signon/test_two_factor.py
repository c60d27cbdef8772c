"""TOTP two-factor authentication as people use it: setting it up, logging in with the
password and then a code, recovery codes, switching it off, an admin's reset and the
policy that requires it of admins."""

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import time_machine
from django.test import Client

from salesplan.core.models import AuditEntry
from salesplan.signon import two_factor
from salesplan.signon.models import RecoveryCode, SignOnPolicy, TotpDevice

from ..api.conftest import api_as  # noqa: F401 - the API caller fixture
from ..factories import PASSWORD

AT = datetime(2026, 3, 2, 15, 0, 7, tzinfo=UTC)


def code_at(secret: str, when: datetime) -> str:
    return pyotp.TOTP(secret).at(when)


def enrol(user) -> tuple[str, list[str]]:
    device = two_factor.start_enrolment(user, by=user)
    codes = two_factor.confirm_enrolment(user, by=user, code=pyotp.TOTP(device.secret).now())
    return device.secret, codes


def password_login(user) -> Client:
    client = Client()
    response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture(autouse=True)
def fixed_time():
    with time_machine.travel(AT, tick=False) as traveller:
        yield traveller


@pytest.mark.django_db
def test_setting_up_shows_the_secret_and_a_first_code_turns_it_on(org):
    user = org.west_rep
    client = Client()
    client.force_login(user)
    assert client.post("/signon/two-factor/").status_code == 302
    page = client.get("/signon/two-factor/").content.decode()
    device = TotpDevice.objects.get(user=user)
    assert device.secret in page and "otpauth://totp/" in page and "data:image/svg+xml" in page

    wrong = client.post("/signon/two-factor/confirm/", {"code": "000000"})
    assert wrong.status_code == 400 and not two_factor.has_two_factor(user)
    right = client.post("/signon/two-factor/confirm/", {"code": code_at(device.secret, AT)})
    assert right.status_code == 200 and two_factor.has_two_factor(user)
    shown = right.content.decode()
    assert RecoveryCode.objects.filter(user=user).count() == 10
    # The codes are shown once, stored only as hashes.
    stored = set(RecoveryCode.objects.filter(user=user).values_list("code_hash", flat=True))
    assert all(h not in shown for h in stored)
    assert AuditEntry.objects.filter(record_type="user", record_id=user.pk,
                                     field="two_factor", new_value="on").exists()
    # Once on, the secret is never shown again.
    assert device.secret not in client.get("/signon/two-factor/").content.decode()


@pytest.mark.django_db
def test_a_password_login_then_waits_for_the_code(org, api_as, fixed_time):  # noqa: F811
    user = org.west_rep
    secret, _ = enrol(user)
    fixed_time.shift(timedelta(seconds=60))
    client = password_login(user)

    held = client.get("/accounts/")
    assert held.status_code == 302 and held["Location"].startswith("/signon/verify/")
    assert client.get("/api/v1/accounts").status_code == 401  # the session owes its code
    assert api_as(user).get("/accounts").status_code == 200  # a token is not affected

    refused = client.post("/signon/verify/", {"code": "123456", "next": "/accounts/"})
    assert refused.status_code == 200 and "not right" in refused.content.decode()
    assert client.get("/accounts/").status_code == 302

    passed = client.post("/signon/verify/", {"code": code_at(secret, AT + timedelta(seconds=60)),
                                             "next": "/accounts/"})
    assert passed.status_code == 302 and passed["Location"] == "/accounts/"
    assert client.get("/accounts/").status_code == 200
    assert client.get("/api/v1/accounts").status_code == 200


@pytest.mark.django_db
def test_a_code_is_refused_a_second_time_within_its_step(org, fixed_time):
    user = org.west_rep
    secret, _ = enrol(user)
    fixed_time.shift(timedelta(seconds=60))
    code = code_at(secret, AT + timedelta(seconds=60))
    assert two_factor.verify_code(user, code) == "totp"
    assert two_factor.verify_code(user, code) is None  # same 30-second step: refused
    # Nor is an older step's code accepted after a newer one was used.
    assert two_factor.verify_code(user, code_at(secret, AT + timedelta(seconds=30))) is None
    fixed_time.shift(timedelta(seconds=30))
    assert two_factor.verify_code(user, code_at(secret, AT + timedelta(seconds=90))) == "totp"


@pytest.mark.django_db
def test_the_enrolment_code_cannot_log_in_again(org):
    user = org.west_rep
    secret, _ = enrol(user)
    assert two_factor.verify_code(user, code_at(secret, AT)) is None


@pytest.mark.django_db
def test_a_recovery_code_works_once(org):
    user = org.west_rep
    _, codes = enrol(user)
    client = password_login(user)
    assert client.post("/signon/verify/", {"code": codes[3].upper()}).status_code == 302
    assert client.get("/accounts/").status_code == 200
    assert two_factor.verify_code(user, codes[3]) is None
    assert RecoveryCode.objects.filter(user=user, used_at__isnull=True).count() == 9
    assert two_factor.verify_code(user, codes[4]) == "recovery"


@pytest.mark.django_db
def test_a_session_waiting_for_its_code_cannot_switch_two_factor_off(org):
    user = org.west_rep
    enrol(user)
    client = password_login(user)
    held = client.post("/signon/two-factor/disable/", {"off-password": PASSWORD})
    assert held.status_code == 302 and held["Location"].startswith("/signon/verify/")
    assert client.get("/signon/two-factor/").status_code == 302
    assert two_factor.has_two_factor(user)


@pytest.mark.django_db
def test_wrong_codes_lock_the_second_step(org, settings):
    settings.LOGIN_MAX_FAILURES = 3
    user = org.west_rep
    secret, _ = enrol(user)
    client = password_login(user)
    for _ in range(2):
        assert client.post("/signon/verify/", {"code": "111111"}).status_code == 200
    locked = client.post("/signon/verify/", {"code": "111111"})
    assert locked.status_code == 429
    assert client.get("/accounts/").status_code == 302  # logged out
    # Even the right code waits for the window to pass.
    assert two_factor.verify_code(user, code_at(secret, AT + timedelta(seconds=30))) is None


@pytest.mark.django_db
def test_switching_off_needs_the_password(org):
    user = org.west_rep
    client = Client()
    client.force_login(user)
    enrol(user)
    assert client.post("/signon/two-factor/disable/",
                       {"off-password": "not-it"}).status_code == 400
    assert two_factor.has_two_factor(user)
    assert client.post("/signon/two-factor/disable/",
                       {"off-password": PASSWORD}).status_code == 302
    assert not two_factor.has_two_factor(user)
    assert not RecoveryCode.objects.filter(user=user).exists()
    assert AuditEntry.objects.filter(record_id=user.pk, field="two_factor",
                                     new_value="off").exists()


@pytest.mark.django_db
def test_an_admin_resets_a_users_two_factor(org, api_as):  # noqa: F811
    enrol(org.west_rep)
    refused = api_as(org.west_manager).post(f"/signon/users/{org.west_rep.pk}/two-factor/reset")
    assert refused.status_code == 403 and two_factor.has_two_factor(org.west_rep)
    done = api_as(org.admin).post(f"/signon/users/{org.west_rep.pk}/two-factor/reset")
    assert done.status_code == 200 and done.data["had_two_factor"] is True
    assert not two_factor.has_two_factor(org.west_rep)
    entry = AuditEntry.objects.get(record_id=org.west_rep.pk, field="two_factor",
                                   new_value__startswith="off (reset")
    assert entry.changed_by == org.admin
    # The user logs in with the password alone and may set it up again.
    client = password_login(org.west_rep)
    assert client.get("/accounts/").status_code == 200


@pytest.mark.django_db
def test_the_policy_sends_an_admin_without_two_factor_to_set_it_up(org, api_as):  # noqa: F811
    policy = SignOnPolicy.current()
    answer = api_as(org.admin).call("put", "/signon/policy", {
        "require_admin_two_factor": True, "version": policy.version})
    assert answer.status_code == 200
    rep = password_login(org.west_rep)
    assert rep.get("/accounts/").status_code == 200  # reps are not required

    client = password_login(org.admin)
    held = client.get("/accounts/")
    assert held.status_code == 302 and held["Location"].startswith("/signon/two-factor/")
    assert client.get("/signon/two-factor/").status_code == 200
    client.post("/signon/two-factor/")
    device = TotpDevice.objects.get(user=org.admin)
    client.post("/signon/two-factor/confirm/", {"code": code_at(device.secret, AT)})
    assert client.get("/accounts/").status_code == 200
    # Required, it cannot be switched off; an admin may still reset it.
    assert client.post("/signon/two-factor/disable/",
                       {"off-password": PASSWORD}).status_code == 400
    assert two_factor.has_two_factor(org.admin)


@pytest.mark.django_db
def test_the_policy_needs_its_version_and_an_admin(org, api_as):  # noqa: F811
    policy = SignOnPolicy.current()
    admin = api_as(org.admin)
    assert admin.call("put", "/signon/policy", {"require_admin_two_factor": True}
                      ).status_code in (422, 428)
    assert admin.call("put", "/signon/policy", {"require_admin_two_factor": True,
                                                "version": policy.version + 5}
                      ).status_code == 409
    assert api_as(org.west_manager).call("put", "/signon/policy", {
        "require_admin_two_factor": True, "version": policy.version}).status_code == 403
    assert not SignOnPolicy.current().require_admin_two_factor
