"""Shared fixtures: one keywarden server for the whole session, driven by the real libraries.

The server is the binary named by KEYWARDEN_BIN (default: target/debug/keywarden in the
repository), started with `start-dev --features=docker` on a free loopback port over a fresh
SQLite file in a temporary directory, bootstrap admin admin/admin. It is stopped (by its own
PID) when the session ends. Its log goes to $KEYWARDEN_LOG_DIR/python-server.log when that is
set, otherwise into the temporary directory (its path is printed on failure).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from keycloak import KeycloakAdmin

REPO_ROOT = Path(__file__).resolve().parents[3]
ADMIN_USER = "admin"
ADMIN_PASSWORD = "admin"

# The two URL layouts keywarden serves: Keycloak 17+ (root) and the legacy `/auth` prefix.
LAYOUTS = ["root", "auth"]


@dataclass
class Server:
    """A running keywarden."""

    url: str  # http://127.0.0.1:PORT
    log_path: Path

    def base(self, layout: str) -> str:
        """The server URL for a layout, without a trailing slash."""
        return self.url + ("/auth" if layout == "auth" else "")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _binary() -> Path:
    raw = os.environ.get("KEYWARDEN_BIN", "target/debug/keywarden")
    path = Path(raw)
    if not path.is_absolute():
        path = REPO_ROOT / path
    if not path.is_file():
        pytest.exit(
            f"keywarden binary not found at {path} (build it with `cargo build` or set "
            "KEYWARDEN_BIN)",
            returncode=3,
        )
    return path


@pytest.fixture(scope="session")
def server():
    tmp = Path(tempfile.mkdtemp(prefix="kw-pyclients-"))
    log_dir = Path(os.environ.get("KEYWARDEN_LOG_DIR") or tmp)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / "python-server.log"
    port = _free_port()
    env = dict(os.environ)
    env.update(
        KC_BOOTSTRAP_ADMIN_USERNAME=ADMIN_USER,
        KC_BOOTSTRAP_ADMIN_PASSWORD=ADMIN_PASSWORD,
        KC_LOG_LEVEL=os.environ.get("KEYWARDEN_LOG_LEVEL", "info"),
    )
    cmd = [
        str(_binary()),
        "start-dev",
        "--features=docker",
        "--http-host=127.0.0.1",
        f"--http-port={port}",
        f"--db-url=sqlite://{tmp}/kw.db",
    ]
    log = open(log_path, "wb")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    ready = False
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if requests.get(url + "/health/ready", timeout=2).status_code == 200:
                ready = True
                break
        except requests.RequestException:
            pass
        time.sleep(0.1)
    if not ready:
        proc.kill()
        proc.wait()
        log.close()
        tail = log_path.read_text(errors="replace")[-4000:]
        pytest.exit(f"keywarden did not become ready on {url}:\n{tail}", returncode=3)
    _server_logs.append(log_path)
    try:
        yield Server(url=url, log_path=log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        if log_dir != tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def unique(prefix: str) -> str:
    """A fresh lower-case name."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def master_admin(server: Server, layout: str, realm: str = "master") -> KeycloakAdmin:
    """A KeycloakAdmin signed in to master with admin/admin, acting on `realm`.

    python-keycloak joins its paths onto server_url with urljoin, so the `/auth` layout
    needs the trailing slash (as its documentation shows: `http://host:8080/auth/`).
    """
    return KeycloakAdmin(
        server_url=server.base(layout) + "/",
        username=ADMIN_USER,
        password=ADMIN_PASSWORD,
        realm_name=realm,
        user_realm_name="master",
        client_id="admin-cli",
    )


# ---- reporting: list the server incompatibilities that failed, with their descriptions ----

_incompat_failures: list[tuple[str, str]] = []
_server_logs: list[Path] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        for mark in item.iter_markers("server_incompat"):
            _incompat_failures.append((item.nodeid, mark.args[0] if mark.args else ""))
    return report


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _incompat_failures:
        tr = terminalreporter
        tr.section("known keywarden incompatibilities (still FAILING)")
        seen = set()
        for nodeid, text in _incompat_failures:
            if nodeid in seen:
                continue
            seen.add(nodeid)
            tr.write_line(f"{nodeid}\n    {text}")
    if exitstatus != 0 and _server_logs:
        for path in _server_logs:
            terminalreporter.write_line(f"server log: {path}")
