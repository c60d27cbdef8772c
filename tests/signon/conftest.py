"""A real OpenID provider on loopback for the sign-on tests: node runs
tests/signon/oidc_provider.mjs (oidc-provider from node_modules) with one client and the
accounts a test gives it."""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID, CLIENT_SECRET = "salesplan-tests", "a-secret-only-the-tests-know"
# How long node may take to start; a deadline for setting up, not a measured result.
START_DEADLINE_SECONDS = 30


@dataclass
class RunningProvider:
    issuer: str
    process: subprocess.Popen
    log: Any

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)
        self.log.close()

    def settings(self, name: str = "Test Identity") -> dict:
        return {"issuer": self.issuer, "discovery_url": "", "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET, "provider_name": name,
                "scopes": "openid email profile groups", "groups_claim": "groups"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_provider(redirect_uri: str, accounts: dict[str, dict]) -> RunningProvider:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "oidc-provider").exists():
        message = "node and node_modules/oidc-provider are needed (make setup)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    port = _free_port()
    config = {"port": port, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
              "redirect_uris": [redirect_uri], "accounts": accounts}
    # Output goes to a file, so a chatty provider never blocks on a full pipe.
    log = tempfile.NamedTemporaryFile("w+", prefix="oidc-provider-", suffix=".log")  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603 - a fixed script with node
        [node, str(SCRIPT)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "OIDC_TEST_CONFIG": json.dumps(config), "NODE_ENV": "test"})
    deadline = time.monotonic() + START_DEADLINE_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        output = Path(log.name).read_text()
        for line in output.splitlines():
            if line.startswith("listening "):
                return RunningProvider(issuer=line.split()[1], process=process, log=log)
        time.sleep(0.05)
    process.kill()
    output = Path(log.name).read_text()
    log.close()
    raise RuntimeError(f"the OpenID provider did not start: {output}")


@pytest.fixture
def oidc_provider_factory():
    started: list[RunningProvider] = []

    def start(redirect_uri: str, accounts: dict[str, dict]) -> RunningProvider:
        provider = start_provider(redirect_uri, accounts)
        started.append(provider)
        return provider

    yield start
    for provider in started:
        provider.stop()
