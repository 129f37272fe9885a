"""Helpers of the auth security tests: real server processes on loopback, logins."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.factories import TEST_SECRET

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def served(database_url: str, var_dir: Path, **settings: str) -> Iterator[str]:
    """``waterguard serve`` in its own process on a loopback port; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "WATERGUARD_DATABASE_URL": database_url,
        "WATERGUARD_SECRET_KEY": TEST_SECRET,
        "WATERGUARD_VAR_DIR": str(var_dir),
        "WATERGUARD_LOG_LEVEL": "WARNING",
        "WATERGUARD_DETECTION_CONCURRENCY": "0",
        **{f"WATERGUARD_{name.upper()}": value for name, value in settings.items()},
    }
    process = subprocess.Popen(
        [sys.executable, "-c", "from app.cli import main; main()", "serve", "--port", str(port),
         "--no-background-worker"],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=None if os.environ.get("WG_DEBUG") else subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server on port {port} did not start")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def login_form(username: str, password: str, otp: str | None = None) -> dict[str, str]:
    form = {"username": username, "password": password}
    if otp is not None:
        form["otp"] = otp
    return form
