"""Blobs as files under one folder: the embedded default (``var/media``)."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from app.storage.base import check_key


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, key: str) -> Path:
        return self.root / check_key(key)

    def _write_atomically(self, key: str, write: object) -> None:
        target = self.path_of(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        try:
            if isinstance(write, bytes):
                partial.write_bytes(write)
            else:
                assert isinstance(write, Path)
                shutil.copyfile(write, partial)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)

    def put_bytes(self, key: str, data: bytes, *, content_type: str) -> None:
        del content_type  # a file's type is its name's
        self._write_atomically(key, data)

    def put_file(self, key: str, path: Path) -> None:
        if path.resolve() == self.path_of(key).resolve():
            return  # already in place
        self._write_atomically(key, path)

    def get_bytes(self, key: str) -> bytes | None:
        path = self.path_of(key)
        return path.read_bytes() if path.is_file() else None

    def fetch_file(self, key: str, target: Path) -> bool:
        path = self.path_of(key)
        if not path.is_file():
            return False
        if path.resolve() != target.resolve():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        return True

    def exists(self, key: str) -> bool:
        return self.path_of(key).is_file()

    def delete(self, key: str) -> None:
        self.path_of(key).unlink(missing_ok=True)

    def keys(self, prefix: str) -> list[str]:
        folder = self.path_of(prefix)
        if not folder.is_dir():
            return []
        return sorted(
            p.relative_to(self.root).as_posix()
            for p in folder.rglob("*")
            if p.is_file() and not p.name.endswith(".part")
        )

    def delete_prefix(self, prefix: str) -> int:
        folder = self.path_of(prefix)
        if not folder.is_dir():
            return 0
        count = sum(1 for p in folder.rglob("*") if p.is_file())
        shutil.rmtree(folder, ignore_errors=True)
        return count
