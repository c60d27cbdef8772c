"""Campaigns and capture forms over the API (the record kit's routes)."""

from ..api.conftest import api_as as api_as_fixture

api_as = api_as_fixture  # the API caller fixture, shared


def test_campaigns_are_listed_by_status_and_written_by_marketing(org, api_as):
    marketer = api_as(org.marketer)
    planned = marketer.post("/marketing/campaigns", {"name": "Spring webinar"})
    assert planned.status_code == 201, planned.data
    assert planned["Location"] == f"/api/v1/marketing/campaigns/{planned.data['id']}"
    active = marketer.post("/marketing/campaigns", {"name": "Trade show", "status": "active"})
    names = [c["name"] for c in marketer.get("/marketing/campaigns?status=active").data]
    assert names == ["Trade show"] and active.data["owner_id"] == org.marketer.pk
    rep = api_as(org.west_rep)
    assert {c["name"] for c in rep.get("/marketing/campaigns").data} >= {"Spring webinar"}
    assert rep.post("/marketing/campaigns", {"name": "Mine"}).status_code == 403
    assert rep.get(f"/marketing/forms/{999999}").status_code == 403
