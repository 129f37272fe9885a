"""The audit chain's keyed hashes and its signed checkpoints (no database in here).

Each audit row carries ``HMAC-SHA256(key, prev_hash + canonical(row))``. The key lives
outside the database (``WATERGUARD_AUDIT_KEY`` or ``var/audit_key``), so someone who can
write the database can neither forge a row nor recompute the hashes after one they changed.
Checkpoints (the sequence number and hash of the chain's head at a moment, signed with the
same key) are appended to a file outside the database: a chain cut short below a checkpoint,
or rewritten before it, no longer matches.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

KEY_CONTEXT = b"waterguard audit chain v1"


def derive_key(secret: str) -> bytes:
    """The HMAC key of the chain, derived from the configured audit key."""
    return hmac.new(secret.encode(), KEY_CONTEXT, hashlib.sha256).digest()


def canonical(row: Mapping[str, Any]) -> str:
    payload = {
        key: (value.isoformat() if isinstance(value, datetime) else value)
        for key, value in row.items()
        if key not in {"hash", "prev_hash"}
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_hash(key: bytes, prev_hash: str, row: Mapping[str, Any]) -> str:
    return hmac.new(key, (prev_hash + canonical(row)).encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    hash: str
    at: str  # ISO 8601, UTC


class CheckpointTampered(Exception):
    """A checkpoint line does not carry a valid signature."""


def _mac(key: bytes, seq: int, hash_: str, at: str) -> str:
    message = f"checkpoint\n{seq}\n{hash_}\n{at}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class CheckpointFile:
    """Signed checkpoints, one JSON line each, appended to a file outside the database."""

    path: Path
    key: bytes

    def read(self) -> list[Checkpoint]:
        """Every checkpoint in order; raises ``CheckpointTampered`` on a bad line."""
        if not self.path.exists():
            return []
        checkpoints = []
        for number, line in enumerate(self.path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                point = Checkpoint(seq=int(data["seq"]), hash=str(data["hash"]), at=str(data["at"]))
                mac = str(data["mac"])
            except (ValueError, KeyError, TypeError) as exc:
                raise CheckpointTampered(f"checkpoint line {number} is unreadable") from exc
            if not hmac.compare_digest(mac, _mac(self.key, point.seq, point.hash, point.at)):
                raise CheckpointTampered(f"checkpoint line {number} has a wrong signature")
            checkpoints.append(point)
        return checkpoints

    def append(self, point: Checkpoint) -> None:
        line = json.dumps(
            {
                "seq": point.seq,
                "hash": point.hash,
                "at": point.at,
                "mac": _mac(self.key, point.seq, point.hash, point.at),
            },
            separators=(",", ":"),
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One write of one line with O_APPEND: lines of several processes never interleave.
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)
