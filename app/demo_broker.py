"""The demo's private MQTT broker (``make run``): a Mosquitto on loopback when one is
installed, else the pure-Python amqtt broker in this process.

Anonymous clients are allowed, which is safe only because the broker listens on 127.0.0.1
and lives as long as the server: the demo's docks and the DJI bridge are its only clients.
Mosquitto's config, pid file and log are under the data folder (``var/``); it runs as the
server's user in a session of its own (Ctrl-C reaches the server, which stops the broker
after the bridge), and the kernel stops it should the server die without cleaning up
(``PR_SET_PDEATHSIG``, which a switch of user would clear).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DEMO_PORT = 18830  # uncommon, so a broker of the machine's own (1883) is left alone
CONF_FILE = "mosquitto-demo.conf"
PID_FILE = "mosquitto-demo.pid"
LOG_FILE = "mosquitto-demo.log"
START_TIMEOUT_S = 10.0
_PR_SET_PDEATHSIG = 1


@dataclass
class DemoBroker:
    """A running broker: its URL, which kind it is, and how to stop it (idempotent)."""

    url: str
    kind: str  # "mosquitto" or "amqtt"
    detail: str
    _stop: Callable[[], None]
    _stopped: bool = False

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self._stop()


class BrokerUnavailable(RuntimeError):
    """No broker could be started; the message says why, for the person running the demo."""


def port_is_free(port: int) -> bool:
    """Nothing listens on 127.0.0.1:``port`` (connections of a stopped broker, waiting out
    TIME_WAIT, do not count: servers bind with SO_REUSEADDR)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _die_with_parent() -> None:  # pragma: no cover  (runs in the child, before exec)
    """The kernel sends the broker SIGTERM when the server's process ends, however it ends."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def find_mosquitto() -> str | None:
    """The ``mosquitto`` binary: on PATH, else Debian's /usr/sbin (not on a user's PATH)."""
    found = shutil.which("mosquitto")
    if found:
        return found
    debian = Path("/usr/sbin/mosquitto")
    return str(debian) if debian.exists() else None


def start_mosquitto(binary: str, var_dir: Path, *, port: int) -> DemoBroker:
    var_dir.mkdir(parents=True, exist_ok=True)
    conf, pid_file, log_file = var_dir / CONF_FILE, var_dir / PID_FILE, var_dir / LOG_FILE
    conf.write_text(
        "# Written by `waterguard serve --demo-docks` for the demo docks; rewritten each start.\n"
        "# Anonymous clients, because it listens on loopback only.\n"
        # As the server's own user: run as root, Mosquitto would switch to its own user, and
        # the kernel forgets the parent-death signal on that switch.
        f"user {pwd.getpwuid(os.getuid()).pw_name}\n"
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous true\n"
        "persistence false\n"
        "log_dest stderr\n"
        "log_timestamp_format %Y-%m-%dT%H:%M:%S\n"
    )
    with log_file.open("ab") as log_handle:
        process = subprocess.Popen(
            [binary, "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # started before the server's threads
        )
    pid_file.write_text(f"{process.pid}\n")

    def stop() -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        pid_file.unlink(missing_ok=True)

    deadline = time.monotonic() + START_TIMEOUT_S
    while not _listening(port):
        if process.poll() is not None or time.monotonic() > deadline:
            stop()
            tail = log_file.read_text(errors="replace").strip().splitlines()[-3:]
            raise BrokerUnavailable(
                f"mosquitto did not start on 127.0.0.1:{port}: {' / '.join(tail) or 'no log'}"
            )
        time.sleep(0.05)
    return DemoBroker(
        url=f"mqtt://127.0.0.1:{port}",
        kind="mosquitto",
        detail=f"{binary}, pid {process.pid}, log {log_file}",
        _stop=stop,
    )


def start_amqtt(*, port: int) -> DemoBroker:
    """amqtt's broker on its own event loop in a daemon thread."""
    try:
        from amqtt.broker import Broker
    except ImportError as exc:
        raise BrokerUnavailable(f"amqtt is not installed ({exc})") from exc
    config = {
        "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }
    logging.getLogger("transitions").setLevel(logging.WARNING)  # amqtt's state machine
    started = threading.Event()
    failure: list[BaseException] = []
    ending: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def serve() -> None:
        try:
            broker = Broker(config)
            await broker.start()
        except Exception as exc:  # the starting thread reports it
            failure.append(exc)
            started.set()
            return
        end = asyncio.Event()
        ending.append((asyncio.get_running_loop(), end))
        started.set()
        await end.wait()
        await broker.shutdown()

    thread = threading.Thread(
        target=lambda: asyncio.run(serve()), name="waterguard-demo-amqtt", daemon=True
    )
    thread.start()

    def stop() -> None:
        if ending:
            loop, end = ending[0]
            with contextlib.suppress(RuntimeError):  # its loop has closed already
                loop.call_soon_threadsafe(end.set)
        thread.join(10)

    if not started.wait(START_TIMEOUT_S) or failure:
        stop()
        why = failure[0] if failure else "no answer"
        raise BrokerUnavailable(f"amqtt did not start on 127.0.0.1:{port}: {why}")
    return DemoBroker(
        url=f"mqtt://127.0.0.1:{port}",
        kind="amqtt",
        detail="in this process; no mosquitto binary found",
        _stop=stop,
    )


def start(
    var_dir: Path,
    *,
    port: int = DEMO_PORT,
    find: Callable[[], str | None] = find_mosquitto,
) -> DemoBroker:
    """Mosquitto when installed, else amqtt, on ``port`` (a free one when it is taken).
    BrokerUnavailable when neither can run."""
    binary = find()
    chosen = port if port_is_free(port) else free_port()
    if binary is not None:
        return start_mosquitto(binary, var_dir, port=chosen)
    return start_amqtt(port=chosen)
