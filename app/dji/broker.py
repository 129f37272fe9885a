"""The Mosquitto password file and ACL that confine each gateway to its own topics.

Pure text rendering (plus :func:`write_files`). The hash is Mosquitto 2.x's own format,
``$7$<iterations>$<salt base64>$<PBKDF2-HMAC-SHA512 base64>``, what ``mosquitto_passwd``
writes, so no tool is needed at run time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.dji.protocol import DEVICE_PUBLISHES, DEVICE_RECEIVES, topic

# mosquitto_passwd's own defaults (2.0): 12 random salt bytes; the iteration count is read
# back from each line, so a higher one works with any 2.x broker.
SALT_BYTES = 12
ITERATIONS = 101
PASSWD_FILE = "waterguard.passwd"
ACL_FILE = "waterguard.acl"


def mosquitto_hash(
    password: str, *, iterations: int = ITERATIONS, salt: bytes | None = None
) -> str:
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_mosquitto_hash(password: str, encoded: str) -> bool:
    """Check ``password`` against a ``$7$`` line (what the broker does).

    >>> line = mosquitto_hash("pw")
    >>> verify_mosquitto_hash("pw", line), verify_mosquitto_hash("x", line)
    (True, False)
    """
    try:
        _, kind, iterations, salt, digest = encoded.split("$")
        if kind != "7":
            return False
        got = hashlib.pbkdf2_hmac(
            "sha512", password.encode(), base64.b64decode(salt), int(iterations)
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


def new_password() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class BrokerLogin:
    """One gateway login: its username, the broker hash, and the serial numbers whose topics
    it owns (the gateway's own and its aircraft's, which publish OSD through it)."""

    username: str
    password_hash: str
    gateway_sn: str
    aircraft_sns: tuple[str, ...] = ()


def render_passwd(logins: Iterable[BrokerLogin], extra: Sequence[tuple[str, str]] = ()) -> str:
    """``username:hash`` lines; ``extra`` adds (username, hash) pairs (the bridge itself)."""
    lines = [f"{u}:{h}" for u, h in extra]
    lines += [f"{login.username}:{login.password_hash}" for login in logins]
    return "".join(line + "\n" for line in lines)


def render_acl(logins: Iterable[BrokerLogin], *, bridge_username: str | None) -> str:
    """A Mosquitto ACL: the bridge may use every Cloud API topic; a gateway may publish only
    on its own (and its aircraft's osd/state) topics and subscribe only to its own."""
    out = ["# Written by Waterguard (app.dji.broker); do not edit by hand.\n"]
    if bridge_username:
        out.append(f"\nuser {bridge_username}\ntopic readwrite sys/product/#\n")
        out.append("topic readwrite thing/product/#\n")
    for login in logins:
        out.append(f"\nuser {login.username}\n")
        for channel in DEVICE_PUBLISHES:
            out.append(f"topic write {topic(login.gateway_sn, channel)}\n")
        for sn in login.aircraft_sns:
            for channel in DEVICE_PUBLISHES[:2]:  # osd, state
                out.append(f"topic write {topic(sn, channel)}\n")
        for channel in DEVICE_RECEIVES:
            out.append(f"topic read {topic(login.gateway_sn, channel)}\n")
    return "".join(out)


def write_files(
    directory: Path,
    logins: Sequence[BrokerLogin],
    *,
    bridge_login: tuple[str, str] | None = None,
) -> tuple[Path, Path]:
    """Write the password file and ACL atomically (Mosquitto rereads them on SIGHUP).

    Mode 0640: give the directory the broker's group with the setgid bit (``chgrp
    mosquitto DIR; chmod 2750 DIR``) so a broker that dropped root privileges can read them."""
    directory.mkdir(parents=True, exist_ok=True)
    passwd = render_passwd(logins, [bridge_login] if bridge_login else ())
    acl = render_acl(logins, bridge_username=bridge_login[0] if bridge_login else None)
    paths = []
    for name, text in ((PASSWD_FILE, passwd), (ACL_FILE, acl)):
        path = directory / name
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        tmp.replace(path)
        paths.append(path)
    return paths[0], paths[1]
