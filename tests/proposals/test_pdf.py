"""The proposal PDF: right totals, the customer, terms and validity, never a margin or a
cost; and the admin's template override, accepted only once it renders."""

import subprocess
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from salesplan.org.models import Company
from salesplan.proposals import services, settings_services
from salesplan.proposals.models import ProposalTemplate
from salesplan.proposals.pdf import render_pdf

from ..api.conftest import assert_problem
from .conftest import stored_quote

PDFTOTEXT = "/usr/bin/pdftotext"


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "proposal.pdf"
    path.write_bytes(data)
    result = subprocess.run([PDFTOTEXT, "-layout", str(path), "-"], capture_output=True,  # noqa: S603
                            check=True, text=True)
    return result.stdout


@pytest.fixture
def taxed_quote(org):
    company = Company.current()
    company.name = "Northwind Networks"
    company.save()
    # 10 × 100 less 15% = 850.00 and 5 × 150 = 750.00; 10% tax: 85.00 + 75.00.
    return stored_quote(org.west_rep, [("RT-100", "10", "100", "15", "60"),
                                       ("SV-INST", "5", "150", "0", "40")], tax_rate=D(10))


def test_the_pdf_shows_the_totals_terms_and_customer_and_no_margin(org, taxed_quote, tmp_path):
    version = services.current_version(taxed_quote)
    text = pdf_text(render_pdf(taxed_quote, version), tmp_path)
    flat = " ".join(text.split())
    assert "Subtotal (excluding tax) USD 1,600.00" in flat
    assert "Tax USD 160.00" in flat
    assert "Total USD 1,760.00" in flat
    assert "USD 850.00" in flat and "USD 750.00" in flat and " 15% " in flat
    assert taxed_quote.opportunity.account.name in flat
    assert "Dana Reyes" in flat and "Northwind Networks" in flat
    assert "Net 30" in flat and "Within 4 weeks of order" in flat
    assert version.valid_until.strftime("%B %-d, %Y") in flat
    # Margins (250.00, 550.00, 29.41%) and costs (60, 40 a unit) are never printed.
    for secret in ("250.00", "550.00", "29.41", "73.33", "argin", "cost", "USD 60.00",
                   "USD 40.00"):
        assert secret not in flat, secret


def test_the_pdf_over_the_api_and_the_page_for_those_who_see_the_quote(org, api_as, client,
                                                                       taxed_quote, tmp_path):
    manager = api_as(org.west_manager)
    answer = manager.client.get(f"/api/v1/quotes/{taxed_quote.pk}/pdf", headers=manager.headers)
    assert answer["Content-Type"] == "application/pdf"
    assert "USD 1,760.00" in pdf_text(answer.content, tmp_path)
    assert_problem(api_as(org.east_rep).get(f"/quotes/{taxed_quote.pk}/pdf"), 404)
    client.force_login(org.executive)
    page = client.get(f"/quotes/{taxed_quote.pk}/pdf/")
    assert page.status_code == 200 and page.content.startswith(b"%PDF")
    client.force_login(org.west_rep2)
    assert client.get(f"/quotes/{taxed_quote.pk}/pdf/").status_code == 404


def test_an_admin_template_override_is_used_once_it_renders(org, taxed_quote, tmp_path):
    override = ("<html><body><h1>{{ company.name }} offer {{ quote.number }}</h1>"
                "<p>Grand total {{ totals.total }}</p>"
                "<p>Sneaky {{ lines.0.margin }}{{ lines.0.unit_cost }}</p></body></html>")
    settings_services.save_template(by=org.admin, html=override, primary_colour="#aa0000")
    text = " ".join(pdf_text(render_pdf(taxed_quote, services.current_version(taxed_quote)),
                             tmp_path).split())
    assert f"offer {taxed_quote.number}" in text and "Grand total USD 1,760.00" in text
    assert "250.00" not in text and "USD 60.00" not in text and "Sneaky" in text
    # Broken templates are refused, and the one in use stays.
    for broken in ("{% if %}", "{% include 'web/base.html' %}", "{% load static %}",
                   "{% debug %}", "{% extends 'web/base.html' %}"):
        with pytest.raises(ValidationError) as caught:
            settings_services.save_template(by=org.admin, html=broken)
        assert "html" in caught.value.message_dict
    assert ProposalTemplate.objects.get().html == override
    with pytest.raises(ValidationError) as caught:
        settings_services.save_template(by=org.admin, html="", primary_colour="red")
    assert "primary_colour" in caught.value.message_dict
    # Empty goes back to the built-in template.
    settings_services.save_template(by=org.admin, html="")
    text = pdf_text(render_pdf(taxed_quote, services.current_version(taxed_quote)), tmp_path)
    assert "Subtotal (excluding tax)" in text


def test_only_admins_change_the_template(org, api_as, client):
    for user in (org.west_manager, org.west_rep, org.executive):
        assert_problem(api_as(user).call("put", "/quotes/proposal-template", {"html": "<p>x</p>"}),
                       403)
    client.force_login(org.west_manager)
    assert client.get("/quotes/template/").status_code == 403
    assert not ProposalTemplate.objects.exists()
    admin = api_as(org.admin)
    assert admin.get("/quotes/proposal-template").data["is_built_in"] is True
    bad = admin.call("put", "/quotes/proposal-template", {"html": "{% for %}"})
    assert "does not compile" in assert_problem(bad, 422, "html")["errors"]["html"][0]
    good = admin.call("put", "/quotes/proposal-template", {"html": "<p>{{ quote.number }}</p>",
                                                           "accent_colour": "#eeeeee"})
    assert good.data["is_built_in"] is False and good.data["accent_colour"] == "#eeeeee"


def test_the_company_logo_is_embedded(org, taxed_quote, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = str(tmp_path)
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5e2d5e40000000049454e44ae426082")
    company = Company.current()
    company.logo = SimpleUploadedFile("logo.png", png, content_type="image/png")
    company.save()
    data = render_pdf(taxed_quote, services.current_version(taxed_quote))
    assert b"/Subtype /Image" in data
