"""In the browser: a manager comments on a rep's lead from the lead page with a mention,
the rep sees the score panel, the unread badge and the notification that leads back."""

import pytest
from playwright.sync_api import expect

from salesplan.scoring import services as scoring
from tests.browser.conftest import log_in
from tests.factories import make_lead

WAIT = 30_000  # ms: a busy machine loads the htmx panels slowly
SAID = "@westrep they want a demo on Friday"

pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, databases="__all__")]


def test_comment_with_a_mention_reaches_the_rep(page, org):
    scoring.create_rule(by=org.marketer, data={
        "kind": "fit", "field": "industry", "operator": "equals", "value": "Healthcare",
        "points": 45})
    lead = make_lead(org.west_rep, company="Mercy Clinics", industry="Healthcare")
    scoring.rescore_lead(lead)

    page.set_default_timeout(WAIT)
    log_in(page, org.west_manager, org.password)
    page.goto(f"/leads/{lead.pk}/")
    panel = page.locator(f"#comments-lead-{lead.pk}")
    expect(panel.get_by_text("No comments yet.")).to_be_visible(timeout=WAIT)
    panel.get_by_label("Comment").fill(SAID)
    panel.get_by_role("button", name="Comment").click()
    expect(panel.get_by_text("Comment added.")).to_be_visible(timeout=WAIT)
    expect(panel.locator(".comment-body")).to_have_text(SAID, timeout=WAIT)
    page.context.clear_cookies()

    log_in(page, org.west_rep, org.password)
    page.goto(f"/leads/{lead.pk}/")
    score = page.locator(f"#lead-score-{lead.pk}")
    expect(score.get_by_text("industry is healthcare: +45 fit")).to_be_visible(timeout=WAIT)
    page.goto("/collab/notifications/badge/")
    expect(page.get_by_text("Notifications 1")).to_be_visible(timeout=WAIT)
    page.goto("/collab/notifications/")
    expect(page.get_by_text("mentioned you on lead")).to_be_visible(timeout=WAIT)
    page.get_by_role("button", name="Open").click()
    page.wait_for_url(f"**/leads/{lead.pk}/")
    thread = page.locator(f"#comments-lead-{lead.pk}")
    expect(thread.locator(".comment-body")).to_have_text(SAID, timeout=WAIT)
    # The comment is the manager's: the rep may not edit it.
    expect(thread.get_by_text("Edit", exact=True)).to_have_count(0, timeout=WAIT)
