"""The storage port: named blobs (``evidence/3f2a….jpg``, ``detection/jobs/…/video.mp4``)
that every API replica and worker reaches. Keys are relative, ``/``-separated, without
``..``; an implementation maps them into its folder or bucket prefix."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

_KEY = re.compile(r"^[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*$")


class StorageError(Exception):
    """The store could not be reached or refused the operation."""


def check_key(key: str) -> str:
    if not _KEY.match(key) or any(part in {".", ".."} for part in key.split("/")):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class Storage(Protocol):
    """Blobs by key; every method takes a key checked by ``check_key``."""

    def put_bytes(self, key: str, data: bytes, *, content_type: str) -> None: ...

    def put_file(self, key: str, path: Path) -> None:
        """Store a local file (a video: streamed, never read whole into memory)."""
        ...

    def get_bytes(self, key: str) -> bytes | None:
        """The blob, or None when there is none."""
        ...

    def fetch_file(self, key: str, target: Path) -> bool:
        """Copy the blob to a local file; False when there is none."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the blob; nothing happens when there is none."""
        ...

    def keys(self, prefix: str) -> list[str]:
        """The keys under ``prefix/``, sorted."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Remove every blob under ``prefix/``; how many were removed."""
        ...
