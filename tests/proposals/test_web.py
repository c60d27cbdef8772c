"""The quote pages: the editor (lines added with htmx and priced with their explanation),
the approval inbox, the opportunity's quotes panel, the matrix; who sees and does what."""

from decimal import Decimal as D

from salesplan.proposals.models import ApprovalRule, Quote, QuoteLine

from .conftest import qv, stored_quote
from .test_pricing import shop  # noqa: F401 - the catalogue fixture


def test_a_rep_adds_a_line_with_htmx_and_sees_it_priced(org, client, shop):  # noqa: F811
    client.force_login(org.west_rep)
    opportunity = shop["opportunity"]
    panel = client.get(f"/quotes/opportunity/{opportunity.pk}/panel/")
    assert panel.content.decode().lstrip().startswith('<section class="card"')
    assert "New quote" in panel.content.decode()
    created = client.post(f"/quotes/opportunity/{opportunity.pk}/new/", {"title": "Acme"})
    quote = Quote.objects.get(opportunity=opportunity)
    assert created.url == f"/quotes/{quote.pk}/"
    fragment = client.post(f"/quotes/{quote.pk}/lines/add/", {
        "product": shop["router"].pk, "quantity": "11", "discount_pct": "12", **qv(quote)},
        headers={"HX-Request": "true"})
    html = fragment.content.decode()
    assert html.lstrip().startswith('<section class="card" aria-labelledby="lines-heading"')
    assert "Router volume" in html or "10 × 100" in html
    # 1,090 less the rep's 12% = 959.20; over the rep's 10%: the manager must approve.
    assert "959.20" in html and "Needs approval" in html and "Discount above 10%" in html
    refused = client.post(f"/quotes/{quote.pk}/lines/add/", {
        "product": shop["router"].pk, "quantity": "-3", **qv(quote)},
        headers={"HX-Request": "true"})
    assert "quantity" in refused.content.decode()
    assert QuoteLine.objects.filter(quote_version__quote=quote).count() == 1
    page = client.get(f"/quotes/{quote.pk}/")
    assert "Margin" in page.content.decode() and "Download PDF" in page.content.decode()


def test_others_do_not_see_or_change_a_reps_quote(org, client, west_quote):
    url = f"/quotes/{west_quote.pk}/"
    for outsider in (org.east_rep, org.west_rep2, org.east_manager):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
        assert client.post(f"{url}status/submit/", qv(west_quote)).status_code == 404
        assert client.get(f"/quotes/opportunity/{west_quote.opportunity_id}/panel/"
                          ).status_code == 404
        assert west_quote.number not in client.get("/quotes/").content.decode()
    client.force_login(org.executive)
    assert client.get(url).status_code == 200
    assert client.post(f"{url}status/submit/", qv(west_quote)).status_code == 403
    assert client.post(f"{url}versions/new/", qv(west_quote)).status_code == 403
    assert Quote.objects.get(pk=west_quote.pk).status == "draft"
    assert Quote.objects.get(pk=west_quote.pk).current_number == 1
    client.force_login(org.west_manager)
    assert client.get(url).status_code == 200


def test_the_manager_approves_from_the_inbox(org, client, west_quote):
    client.force_login(org.west_rep)
    client.post(f"/quotes/{west_quote.pk}/status/submit/", qv(west_quote))
    assert Quote.objects.get(pk=west_quote.pk).status == "in_approval"
    client.force_login(org.west_manager)
    inbox = client.get("/quotes/approvals/").content.decode()
    assert west_quote.number in inbox and "Discount above 10%" in inbox and "RT-100" in inbox
    approval = west_quote.versions.get().approvals.get()
    client.post(f"/quotes/{west_quote.pk}/approvals/{approval.pk}/approve/",
                qv(west_quote, comment="Fine", next="inbox"))
    assert Quote.objects.get(pk=west_quote.pk).status == "approved"
    assert west_quote.number not in client.get("/quotes/approvals/").content.decode()


def test_only_admins_change_the_matrix_page(org, client):
    client.force_login(org.west_manager)
    page = client.get("/quotes/matrix/").content.decode()
    assert "Discount above 20%" in page and "Add a rule" not in page
    data = {"name": "Margin under 5%", "metric": "margin", "threshold_pct": "5",
            "approver": "admin", "step": "3", "active": "on"}
    assert client.post("/quotes/matrix/", data).status_code == 403
    rule = ApprovalRule.objects.first()
    assert client.post(f"/quotes/matrix/{rule.pk}/delete/",
                       {"version": rule.version}).status_code == 403
    assert ApprovalRule.objects.count() == 3
    client.force_login(org.admin)
    client.post("/quotes/matrix/", data)
    assert ApprovalRule.objects.filter(name="Margin under 5%", threshold_pct=D(5)).exists()
    ten = ApprovalRule.objects.get(name="Discount above 10%")
    client.post("/quotes/matrix/", {"rule": ten.pk, f"r{ten.pk}-name": "Discount above 12%",
                                    f"r{ten.pk}-metric": "discount",
                                    f"r{ten.pk}-threshold_pct": "12",
                                    f"r{ten.pk}-approver": "manager", f"r{ten.pk}-step": "1",
                                    f"r{ten.pk}-active": "on", "version": ten.version})
    ten.refresh_from_db()
    assert (ten.name, ten.threshold_pct) == ("Discount above 12%", D(12))


def test_an_older_version_stays_readable(org, client):
    quote = stored_quote(org.west_rep, [("RT-100", "1", "100", "0", "60")])
    client.force_login(org.west_rep)
    client.post(f"/quotes/{quote.pk}/status/send/", qv(quote))
    client.post(f"/quotes/{quote.pk}/versions/new/", qv(quote))
    old = client.get(f"/quotes/{quote.pk}/versions/1/").content.decode()
    assert "an older version" in old and "sent" in old


def test_quote_pages_need_no_inline_script_or_style(org, client, west_quote):
    from ..web.test_layout import INLINE

    client.force_login(org.admin)
    for url in ("/quotes/", "/quotes/?status=draft", "/quotes/approvals/", "/quotes/matrix/",
                "/quotes/template/", f"/quotes/{west_quote.pk}/",
                f"/quotes/{west_quote.pk}/versions/1/",
                f"/quotes/opportunity/{west_quote.opportunity_id}/panel/"):
        response = client.get(url)
        assert response.status_code == 200, url
        match = INLINE.search(response.content.decode())
        assert match is None, f"{url}: {match and match.group(0)}"


def test_the_quote_list_pages_by_cursor(org, client):
    for n in range(53):
        stored_quote(org.west_rep, [("RT-100", "1", "100", "0", "60")], title=f"Quote {n}")
    client.force_login(org.west_manager)
    first = client.get("/quotes/")
    assert len(first.context["quotes"]) == 50 and first.context["page"].next_cursor
    second = client.get("/quotes/", {"cursor": first.context["page"].next_cursor},
                        headers={"HX-Request": "true"})
    html = second.content.decode()
    assert html.lstrip().startswith('<div id="list-results">')
    assert [q.title for q in second.context["quotes"]] == ["Quote 2", "Quote 1", "Quote 0"]
    assert client.get("/quotes/", {"cursor": "garbage"}).status_code == 404
