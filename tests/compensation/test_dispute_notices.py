"""A raised dispute waits in the rep's manager's inbox; its answer and its resolution
reach the rep."""

from datetime import date

from salesplan.compensation import services
from salesplan.compensation.models import CompStatement
from salesplan.inbox.models import InboxItem

from .conftest import won


def test_dispute_notices_go_to_the_manager_and_back_to_the_rep(org, comp):
    won(org.west_rep, "10000", date(2026, 1, 5))
    services.calculate_period(comp.january)
    statement = CompStatement.objects.get(rep=org.west_rep, period=comp.january)
    dispute = services.raise_dispute(statement, 1, by=org.west_rep, text="Deal 9 is missing")

    waiting = InboxItem.objects.open().get(kind="pay_dispute")
    assert waiting.user == org.west_manager and waiting.detail == "Deal 9 is missing"
    assert "Bookings commission (USD 200.00) in January 2026" in waiting.title
    assert waiting.url == f"/comp/statements/{statement.pk}/"

    dispute = services.answer_dispute(dispute, by=org.west_manager, answer="It closed in Feb",
                                      expected_version=dispute.version)
    assert not InboxItem.objects.open().filter(kind="pay_dispute").exists()
    told = InboxItem.objects.open().get(kind="pay_dispute_answer")
    assert told.user == org.west_rep and "answered" in told.title
    assert told.detail == "It closed in Feb"

    services.resolve_dispute(dispute, by=org.west_manager, resolution="Explained",
                             expected_version=dispute.version)
    told = InboxItem.objects.open().get(kind="pay_dispute_answer")
    assert "resolved" in told.title and told.detail == "Explained"


def test_a_rep_without_a_manager_goes_to_the_admins(org, comp):
    org.west.manager = None
    org.west.save()
    org.region.manager = None
    org.region.save()
    won(org.west_rep, "10000", date(2026, 1, 5))
    services.calculate_period(comp.january)
    statement = CompStatement.objects.get(rep=org.west_rep, period=comp.january)
    services.raise_dispute(statement, 1, by=org.west_rep, text="Too low")
    assert [i.user for i in InboxItem.objects.open().filter(kind="pay_dispute")] == [org.admin]
