"""Who a person becomes when the OpenID provider vouches for them: the mapping of their
groups to a role and a team, linking by verified email, and refusals. (The whole
authorization-code flow against a real provider is the browser journey in
tests/browser/test_sign_on.py.)"""

import pytest
from django.core.exceptions import ValidationError

from salesplan.core.models import AuditEntry
from salesplan.org.models import Role, User
from salesplan.signon import services
from salesplan.signon.models import GroupMapping, ProviderAccount

ISSUER = "https://id.example.test"


def claims(sub="u-1", groups=("sales-west",), email="dana@example.test", verified=True, **more):
    return {"sub": sub, "groups": list(groups), "email": email, "email_verified": verified,
            "preferred_username": "dana", "given_name": "Dana", "family_name": "Reyes",
            **more}


@pytest.fixture
def mappings(org):
    return {
        "west": services.create_mapping(by=org.admin, group="sales-west", role=Role.REP,
                                        team_id=org.west.pk),
        "east": services.create_mapping(by=org.admin, group="sales-east", team_id=org.east.pk),
        "managers": services.create_mapping(by=org.admin, group="managers", role=Role.MANAGER),
    }


@pytest.mark.django_db
def test_a_first_login_creates_the_user_with_the_mapped_role_and_team(org, mappings):
    user = services.sign_in_from_provider(ISSUER, claims())
    assert (user.username, user.role, user.team, user.email) == (
        "dana", Role.REP, org.west, "dana@example.test")
    assert not user.has_usable_password()
    assert ProviderAccount.objects.get(user=user).subject == "u-1"
    assert AuditEntry.objects.filter(record_type="user", record_id=user.pk, field="sign_on",
                                     new_value__contains="sales-west").exists()


@pytest.mark.django_db
def test_later_logins_follow_the_groups(org, mappings):
    user = services.sign_in_from_provider(ISSUER, claims())
    again = services.sign_in_from_provider(ISSUER, claims(groups=["sales-east", "managers"],
                                                          email="new@example.test"))
    assert again.pk == user.pk  # found by the provider's subject, not the email
    again.refresh_from_db()
    assert (again.role, again.team) == (Role.MANAGER, org.east)
    changed = set(AuditEntry.objects.filter(record_id=user.pk, changed_by=user)
                  .values_list("field", flat=True))
    assert {"role", "team", "sign_on"} <= changed


@pytest.mark.django_db
def test_the_most_powerful_mapped_role_wins(org, mappings):
    user = services.sign_in_from_provider(ISSUER, claims(groups=["managers", "sales-west"]))
    assert (user.role, user.team) == (Role.MANAGER, org.west)


@pytest.mark.django_db
def test_an_invited_user_is_linked_by_verified_email(org, mappings):
    invited = User.objects.create_user("dreyes", email="Dana@Example.test", role=Role.REP)
    user = services.sign_in_from_provider(ISSUER, claims(groups=["managers"]))
    assert user.pk == invited.pk and user.role == Role.MANAGER
    assert ProviderAccount.objects.get(issuer=ISSUER, subject="u-1").user == invited


@pytest.mark.django_db
def test_an_unverified_email_links_nobody(org, mappings):
    invited = User.objects.create_user("dreyes", email="dana@example.test")
    user = services.sign_in_from_provider(ISSUER, claims(verified=False))
    assert user.pk != invited.pk and user.email == ""


@pytest.mark.django_db
def test_a_person_in_no_mapped_group_gets_no_account(org, mappings):
    before = User.objects.count()
    with pytest.raises(services.SignOnRefused, match="no group"):
        services.sign_in_from_provider(ISSUER, claims(groups=["contractors"]))
    assert User.objects.count() == before and not ProviderAccount.objects.exists()


@pytest.mark.django_db
def test_a_deactivated_user_is_refused_and_nothing_changes(org, mappings):
    user = services.sign_in_from_provider(ISSUER, claims())
    User.objects.filter(pk=user.pk).update(is_active=False)
    entries = AuditEntry.objects.count()
    with pytest.raises(services.SignOnRefused, match="deactivated"):
        services.sign_in_from_provider(ISSUER, claims(groups=["managers"]))
    user.refresh_from_db()
    assert user.role == Role.REP and AuditEntry.objects.count() == entries

    invited = User.objects.create_user("gone", email="gone@example.test", is_active=False)
    with pytest.raises(services.SignOnRefused):
        services.sign_in_from_provider(ISSUER, claims(sub="u-2", email="gone@example.test"))
    assert not ProviderAccount.objects.filter(user=invited).exists()


@pytest.mark.django_db
def test_a_mapping_names_a_role_or_a_team_and_each_group_once(org, mappings):
    with pytest.raises(ValidationError) as error:
        services.create_mapping(by=org.admin, group="sales-west", role=Role.REP)
    assert "group" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.create_mapping(by=org.admin, group="nothing")
    assert "role" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.create_mapping(by=org.admin, group="x", team_id=999_999)
    assert "team_id" in error.value.message_dict
    assert GroupMapping.objects.count() == 3
