"""The API's edge: bodies nested too deeply or too large, and every error on an API path,
answer as problem details naming the problem — never a server error, never HTML, and
nothing is written."""

import json

import pytest
from django.test import Client, override_settings

from salesplan.core.edge import MAX_JSON_DEPTH, json_depth, parse_json
from salesplan.customers.models import Account, Lead
from salesplan.marketing.models import CampaignMember
from salesplan.org.services import create_api_token
from tests.api.conftest import ApiCaller, assert_problem
from tests.factories import make_lead
from tests.marketing.conftest import campaign, capture_form, policy, territory_map  # noqa: F401

DEEP = "[" * 20_000 + "]" * 20_000
DEEP_OBJECT = '{"a":' * 20_000 + "1" + "}" * 20_000


def api_as(user) -> ApiCaller:
    _, key = create_api_token(user, "tests")
    return ApiCaller(Client(), {"Authorization": f"Bearer {key}"})


def problem_of(response) -> dict:
    assert response["Content-Type"] == "application/problem+json", response.content
    return json.loads(response.content)


@pytest.mark.parametrize("raw", [DEEP, DEEP_OBJECT, '{"name": ' + DEEP + "}"])
def test_deep_json_to_the_public_capture_endpoint_is_refused(capture_form, raw):  # noqa: F811
    response = Client().post(f"/api/v1/marketing/capture/{capture_form.key}", data=raw,
                             content_type="application/json", REMOTE_ADDR="203.0.113.7")
    body = problem_of(response)
    assert response.status_code == 422 and "deep" in body["title"]
    assert "body" in body["errors"]
    assert not Lead.objects.exists() and not CampaignMember.objects.exists()


@pytest.mark.parametrize("raw", [DEEP, DEEP_OBJECT])
def test_deep_json_to_a_record_endpoint_is_refused(org, raw):
    response = api_as(org.west_rep).post("/accounts", raw=raw)
    assert_problem(response, 422, "body")
    assert not Account.objects.exists()


def test_deep_json_to_a_lead_transition_is_refused(org):
    lead = make_lead(org.west_rep)
    response = api_as(org.west_rep).post(f"/marketing/leads/{lead.pk}/accept",
                                         raw='{"reason": ' + DEEP + "}")
    assert_problem(response, 422, "body")


def test_nesting_up_to_the_limit_is_read():
    value = parse_json(("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH).encode())
    assert value == json.loads("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)


def test_brackets_inside_text_do_not_count_as_nesting():
    text = json.dumps({"note": "[{" * 500 + '\\"' + "}]" * 500})
    assert json_depth(text.encode()) == 1
    assert parse_json(text.encode())["note"].startswith("[{[{")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_json_numbers_are_refused(org, constant):
    response = api_as(org.west_rep).post("/accounts", raw=f'{{"name": "A", "x": {constant}}}')
    assert_problem(response, 422, "body")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_a_body_over_the_upload_limit_is_413_problem_details(org, capture_form):  # noqa: F811
    big = json.dumps({"name": "A" * 4000})
    assert_problem(api_as(org.west_rep).post("/accounts", raw=big), 413, "body")
    response = Client().post(f"/api/v1/marketing/capture/{capture_form.key}", data=big,
                             content_type="application/json", REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 413 and problem_of(response)["status"] == 413
    assert not Account.objects.exists() and not Lead.objects.exists()


# --- Errors Django answers itself ------------------------------------------------------


def test_post_to_an_unknown_path_with_a_token_is_404_problem_details(org):
    _, key = create_api_token(org.west_rep, "tests")
    response = Client(enforce_csrf_checks=True).post(
        "/api/v1/no/such/thing", data="{}", content_type="application/json",
        headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 404 and problem_of(response)["status"] == 404


def test_a_method_not_allowed_is_405_problem_details(org):
    response = api_as(org.west_rep).call("put", "/accounts", {})
    assert response.status_code == 405
    assert problem_of(response)["status"] == 405 and response["Allow"]


def test_a_session_without_the_csrf_token_is_403_problem_details(org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.west_rep)
    response = client.post("/api/v1/accounts", data=json.dumps({"name": "A"}),
                           content_type="application/json")
    assert response.status_code == 403 and "CSRF" in problem_of(response)["detail"]
    assert not Account.objects.exists()


def test_a_session_post_to_an_unknown_path_gets_no_html(org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.west_rep)
    response = client.post("/api/v1/nowhere", data="{}", content_type="application/json")
    assert response.status_code in (403, 404) and problem_of(response)


def test_a_server_error_is_500_problem_details(org, monkeypatch):
    import salesplan.org.api as me_api

    def crash(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(me_api, "scope_for", crash)
    _, key = create_api_token(org.west_rep, "tests")
    response = Client(raise_request_exception=False).get(
        "/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 500
    assert problem_of(response)["type"].endswith("server-error")


def test_a_deep_column_mapping_on_an_import_upload_names_the_mapping(org):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from salesplan.core.models import BackgroundJob

    _, key = create_api_token(org.west_rep, "tests")
    response = Client().post("/api/v1/imports/contacts", {
        "file": SimpleUploadedFile("p.csv", b"Surname\nLee\n"), "mapping": DEEP_OBJECT},
        headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 422 and "mapping" in problem_of(response)["errors"]
    assert not BackgroundJob.objects.exists()
