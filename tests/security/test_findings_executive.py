"""Review finding: the read-only executive could write comments (API and page), health
recomputes, lead rescores and the quality recount. The registry now refuses every
action but "view" to the executive, centrally; the pages hide the controls."""

import json

import pytest
from django.urls import reverse

from salesplan.collab.models import Comment
from salesplan.core.models import BackgroundJob
from salesplan.core.registry import REGISTRY, allowed, roles_allowed
from salesplan.health.models import AccountHealth
from salesplan.scoring.models import LeadScore

from ..factories import make_account, make_lead


def test_no_entry_lets_the_executive_write(org):
    for (resource, action), entry in REGISTRY.entries.items():
        if action != "view" and not entry.personal:
            assert not allowed(org.executive, resource, action), f"{resource}.{action}"
            assert "executive" not in roles_allowed(resource, action), f"{resource}.{action}"


def test_the_executive_cannot_comment(org, client):
    account = make_account(org.west_rep, name="Commented Co")
    client.force_login(org.executive)
    answer = client.post("/api/v1/collab/comments", data=json.dumps(
        {"target": "account", "target_id": account.pk, "body": "Nice"}),
        content_type="application/json")
    assert answer.status_code == 403
    page = client.post(reverse("web:collab:thread", args=["account", account.pk]),
                       {"body": "Nice"})
    assert page.status_code == 403
    assert not Comment.objects.exists()
    thread = client.get(reverse("web:collab:thread", args=["account", account.pk]))
    assert thread.status_code == 200 and 'name="body"' not in thread.content.decode()


def test_the_executive_cannot_recompute_health_or_rescore(org, client):
    account = make_account(org.west_rep, name="Healthy Co")
    lead = make_lead(org.west_rep, last_name="Scored")
    client.force_login(org.executive)
    assert client.post(f"/api/v1/health/accounts/{account.pk}/recompute").status_code == 403
    assert client.post(reverse("web:health:recompute", args=[account.pk])).status_code == 403
    assert not AccountHealth.objects.filter(pk=account.pk).exists()
    assert client.post(f"/api/v1/scoring/leads/{lead.pk}/rescore").status_code == 403
    assert client.post(reverse("web:scoring:lead_rescore", args=[lead.pk])).status_code == 403
    assert not LeadScore.objects.filter(pk=lead.pk).exists()
    panel = client.get(reverse("web:scoring:lead_panel", args=[lead.pk])).content.decode()
    assert "Score now" not in panel


@pytest.mark.parametrize("url", ["/quality/recount/"])
def test_the_executive_cannot_recount_quality(org, client, url):
    client.force_login(org.executive)
    assert client.post(url).status_code == 403
    assert not BackgroundJob.objects.exists()
