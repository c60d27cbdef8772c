"""Take the README's screenshots from a running demo (`make demo`) with headless Chromium.

Usage: .venv/bin/python scripts/screenshots.py [http://127.0.0.1:8000]
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
        "--disable-gpu"]


def log_in(page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login/" not in url)


def shoot(page, path: str, name: str) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=OUT / f"{name}.png")
    print(f"{name}.png  {(OUT / f'{name}.png').stat().st_size // 1024} KB")


def main(base_url: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        context = browser.new_context(base_url=base_url, viewport={"width": 1280,
                                                                   "height": 800})
        page = context.new_page()
        log_in(page, "joe.ross")
        shoot(page, "/", "my-day")
        page.goto("/accounts/")
        first_account = page.locator("table a[href^='/accounts/']").first
        account_url = first_account.get_attribute("href")
        context.clear_cookies()
        log_in(page, "manager.west")
        shoot(page, "/pipeline/", "pipeline-board")
        shoot(page, "/accounts/", "accounts")
        if account_url:
            shoot(page, account_url, "account-detail")
        shoot(page, "/imports/", "import")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
