"""Logging in by username or email, throttling, logging out, pages behind login."""

import pytest


@pytest.mark.parametrize("login_name", ["westrep", "westrep@example.com", "WestRep"])
def test_log_in_by_username_or_email(client, org, login_name):
    page = client.get("/login/")
    assert b"Username or email" in page.content and b"Log in" in page.content
    response = client.post("/login/", {"username": login_name, "password": org.password})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").context["user"] == org.west_rep


def test_wrong_password_says_so_and_does_not_log_in(client, org):
    response = client.post("/login/", {"username": "westrep", "password": "nope"})
    assert response.status_code == 200
    assert "do not match" in response.content.decode()
    assert client.get("/").status_code == 302


def test_five_failures_lock_even_the_right_password(client, org):
    for _ in range(5):
        client.post("/login/", {"username": "westrep", "password": "wrong"})
    response = client.post("/login/", {"username": "westrep", "password": org.password})
    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()
    assert client.get("/").status_code == 302  # still logged out


def test_success_clears_earlier_failures(client, org):
    for _ in range(4):
        client.post("/login/", {"username": "westrep", "password": "wrong"})
    assert client.post("/login/", {"username": "westrep",
                                   "password": org.password}).status_code == 302
    client.post("/logout/")
    for _ in range(4):
        client.post("/login/", {"username": "westrep", "password": "wrong"})
    assert client.post("/login/", {"username": "westrep",
                                   "password": org.password}).status_code == 302


def test_login_returns_to_the_page_asked_for_but_never_off_site(client, org):
    response = client.post("/login/?next=/accounts/", {"username": "westrep",
                                                       "password": org.password})
    assert response["Location"] == "/accounts/"
    client.post("/logout/")
    response = client.post("/login/?next=https://evil.example/", {
        "username": "westrep", "password": org.password})
    assert response["Location"] == "/"


def test_logout_needs_post(login, org):
    client = login(org.west_rep)
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/").status_code == 302
    assert client.get("/accounts/").status_code == 302


@pytest.mark.parametrize("url", ["/", "/accounts/", "/pipeline/", "/search/?q=ab",
                                 "/settings/", "/profile/", "/lookup/accounts/?q=a"])
def test_pages_need_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
