"""The dashboard's files: one HTML shell and the static assets beside it, all in the package."""

from __future__ import annotations

import json
from functools import lru_cache
from html import escape
from pathlib import Path

from app.errors import NotFound

STATIC_DIR = (Path(__file__).parent / "static").resolve()
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
    ".md": "text/plain; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


class AssetNotFound(NotFound):
    pass


def asset(name: str) -> tuple[Path, str]:
    """The file under ``static/`` named ``name`` and its media type; never outside it."""
    candidate = (STATIC_DIR / name).resolve()
    if (
        not candidate.is_relative_to(STATIC_DIR)
        or not candidate.is_file()
        or candidate.suffix not in MEDIA_TYPES
        or candidate.name == "index.html"
    ):
        raise AssetNotFound(f"no dashboard file {name!r}")
    return candidate, MEDIA_TYPES[candidate.suffix]


@lru_cache(maxsize=1)
def _shell() -> str:
    return (STATIC_DIR / "index.html").read_text(encoding="utf-8")


def index_html(*, display_timezone: str, version: str) -> str:
    """The HTML shell, with the display zone and the asset version filled in."""
    config = escape(json.dumps({"timezone": display_timezone, "version": version}), quote=True)
    return _shell().replace("__WG_CONFIG__", config).replace("__WG_VERSION__", escape(version))
