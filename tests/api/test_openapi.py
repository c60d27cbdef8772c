"""The committed schema matches the API, and the docs page works under the CSP."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import CommandError, call_command

from salesplan.config.api import api
from salesplan.config.management.commands.openapi import committed_schema_path


def test_committed_schema_is_current():
    committed = committed_schema_path().read_text(encoding="utf-8")
    assert committed == api.openapi_json(), (
        "docs/openapi.json is out of date: run `salesplan openapi` and commit it.")


def test_check_command_fails_on_a_stale_file(tmp_path):
    stale = tmp_path / "openapi.json"
    stale.write_text("{}\n")
    with pytest.raises(CommandError):
        call_command("openapi", "--check", "--output", str(stale))
    call_command("openapi", "--output", str(stale))
    call_command("openapi", "--check", "--output", str(stale))


def test_schema_documents_problem_responses_and_no_catch_all_fields():
    schema = api.get_openapi_schema()
    patch = schema["paths"]["/api/v1/opportunities/{id}"]["patch"]
    assert {"404", "409", "422"} <= set(patch["responses"])
    bodies = schema["components"]["schemas"]
    assert bodies["OpportunityPatch"]["additionalProperties"] is False
    assert "version" in bodies["OpportunityPatch"]["required"]


def test_docs_page_has_no_inline_script_and_its_assets_exist(client, db):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    html = response.content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    for asset in re.findall(r'(?:src|href)="/static/([^"]+)"', html):
        assert finders.find(asset), asset
