"""The real app under uvicorn on a free local port, a fresh seeded database, and Chromium.

Browser tests need Debian's ``chromium`` (``apt-get install chromium``) and the Python
``playwright`` package (dev extra); without either they are skipped with the reason.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path(os.environ.get("WATERGUARD_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", *args],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def live_var(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The live server's var folder (its SQLite file and its log)."""
    return tmp_path_factory.mktemp("e2e-var")


@pytest.fixture(scope="session")
def live_database_url(live_var: Path) -> str:
    """The live server's database, for rows no API writes (a dock's flight task)."""
    return f"sqlite:///{live_var / 'e2e.sqlite3'}"


@pytest.fixture(scope="session")
def live_server(live_var: Path, live_database_url: str) -> Iterator[str]:
    """``waterguard migrate`` + ``seed-demo`` on a new SQLite file, then uvicorn."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not found: apt-get install chromium to run the browser tests"
        if os.environ.get("WATERGUARD_E2E_REQUIRED"):
            pytest.fail(reason)
        pytest.skip(reason)
    var = live_var
    env = {
        **os.environ,
        "WATERGUARD_DATABASE_URL": live_database_url,
        "WATERGUARD_VAR_DIR": str(var),
        "WATERGUARD_SECRET_KEY": secrets.token_urlsafe(48),
        "WATERGUARD_LOG_JSON": "false",
        "WATERGUARD_LOG_LEVEL": "WARNING",
        "WATERGUARD_SSE_POLL_S": "1",
        "WATERGUARD_READY_REQUIRES_WORKER": "false",  # this server runs no worker
    }
    _cli(env, "migrate")
    _cli(env, "seed-demo")
    port = _free_port()
    log = (var / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.close()
                pytest.fail(f"server did not start: {(var / 'server.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        shutil.copy(var / "server.log", ARTIFACTS / "server.log") if ARTIFACTS.exists() else None


# Package scope: Playwright's sync API keeps an event loop running in this thread while it
# is open, and later tests (tests/security) call asyncio.run().
@pytest.fixture(scope="package")
def browser(live_server: str) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
