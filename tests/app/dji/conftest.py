"""A real Mosquitto on 127.0.0.1: one per test session on a free port (two suites running
side by side, as CI runs SQLite and PostgreSQL, must not answer each other's docks: every
bridge subscribes to the same DJI topics), and private brokers for the ACL tests."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unique_sn(prefix: str) -> str:
    """Serial numbers unique per test, so the tests of one session never collide."""
    return f"{prefix}{uuid.uuid4().hex[:12].upper()}"


def run(coro: Coroutine[Any, Any, T], timeout_s: float = 60) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout_s)

    return asyncio.run(bounded())


@contextmanager
def mosquitto(
    directory: Path, *, extra_conf: str = "", lifetime_s: int = 120, port: int | None = None
) -> Iterator[int]:
    """A private Mosquitto on a free loopback port, killed at exit (and by ``timeout`` after
    ``lifetime_s`` whatever happens to this process)."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        pytest.fail("mosquitto is not installed (apt-get install mosquitto)")
    port = port or free_port()
    conf = directory / f"mosquitto-{port}.conf"
    conf.write_text(f"listener {port} 127.0.0.1\npersistence false\n{extra_conf}")
    process = subprocess.Popen(
        ["timeout", str(lifetime_s), binary, "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not port_open(port):
            assert process.poll() is None, f"mosquitto exited with {process.returncode}"
            assert time.monotonic() < deadline, "mosquitto did not start"
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture(scope="session")
def broker_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with mosquitto(
        tmp_path_factory.mktemp("mosquitto"), extra_conf="allow_anonymous true\n", lifetime_s=1800
    ) as port:
        yield f"mqtt://127.0.0.1:{port}"
