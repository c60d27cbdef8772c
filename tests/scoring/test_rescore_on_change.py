"""A lead's score follows the lead: created, edited, or worked."""

from salesplan.activities.services import log_activity
from salesplan.customers.services import create_lead, update_lead
from salesplan.scoring.models import LeadScore, ScoringRule


def test_score_follows_the_lead_and_its_activities(org, django_capture_on_commit_callbacks):
    ScoringRule.objects.create(kind="fit", field="industry", operator="equals",
                               value="Healthcare", points=30, label="Healthcare")
    ScoringRule.objects.create(kind="engagement", field="calls", operator="at_least",
                               value="1", points=10, label="Took a call")
    with django_capture_on_commit_callbacks(execute=True):
        lead = create_lead(by=org.west_rep, data={"last_name": "Ng", "company": "Clinic",
                                                  "industry": "Retail"})
    assert LeadScore.objects.get(lead=lead).fit == 0
    with django_capture_on_commit_callbacks(execute=True):
        update_lead(lead, by=org.west_rep, data={"industry": "Healthcare"})
    assert LeadScore.objects.get(lead=lead).fit == 30
    with django_capture_on_commit_callbacks(execute=True):
        log_activity(by=org.west_rep, data={"kind": "call", "subject": "Intro",
                                            "lead": lead.pk, "done": True})
    assert LeadScore.objects.get(lead=lead).engagement == 10
