"""`__in_ids`: the territory accounts' ids as one array on PostgreSQL, the same rows as
`__in` on every database."""

from django.db.models import Q

from salesplan.activities.models import Activity
from salesplan.customers.models import Account
from salesplan.pipeline.models import Opportunity
from tests.factories import make_account, make_activity, make_opportunity


def test_in_ids_finds_the_same_records_as_in(org):
    accounts = [make_account(org.west_rep) for _ in range(5)]
    for account in accounts:
        make_opportunity(org.west_rep, account)
        make_activity(org.west_rep, account)
    chosen = [accounts[0].pk, accounts[3].pk, accounts[3].pk, 10**9]
    for model, field in ((Account, "pk"), (Opportunity, "account"), (Activity, "account")):
        expected = set(model.objects.filter(**{f"{field}__in": chosen}))
        assert expected and set(model.objects.filter(**{f"{field}__in_ids": chosen})) \
            == expected
        assert set(model.objects.exclude(**{f"{field}__in_ids": chosen})) \
            == set(model.objects.exclude(**{f"{field}__in": chosen}))


def test_no_ids_match_nothing_and_leave_the_other_side_of_an_or(org):
    mine = make_opportunity(org.west_rep)
    make_opportunity(org.east_rep)
    assert not Opportunity.objects.filter(account__in_ids=[]).exists()
    either = Opportunity.objects.filter(Q(owner=org.west_rep) | Q(account__in_ids=[]))
    assert list(either) == [mine]


def test_in_array_of_finds_the_same_records_as_in(org):
    accounts = [make_account(org.west_rep) for _ in range(4)]
    for account in accounts:
        make_opportunity(org.west_rep, account)
        make_activity(org.west_rep, account)
    make_opportunity(org.east_rep)  # an account outside the chosen ones
    chosen = Account.objects.filter(pk__in=[accounts[1].pk, accounts[2].pk]).values("pk")
    for model, field in ((Opportunity, "account"), (Activity, "account")):
        expected = set(model.objects.filter(**{f"{field}__in": chosen}))
        assert len(expected) == 2
        assert set(model.objects.filter(**{f"{field}__in_array_of": chosen})) == expected
        assert set(model.objects.exclude(**{f"{field}__in_array_of": chosen})) \
            == set(model.objects.exclude(**{f"{field}__in": chosen}))
    none = Account.objects.filter(pk=10**9).values("pk")
    assert not Opportunity.objects.filter(account__in_array_of=none).exists()

