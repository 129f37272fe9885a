"""The dashboard is served by the app, works offline and names every file it vendors."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app.web.service import STATIC_DIR

EXTERNAL = re.compile(r"""(?:src|href|url\(|fetch\(|import)\s*=?\s*["'(]?\s*(?:https?:)?//""")


def test_the_shell_is_public_and_strict(client: TestClient) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert "Asia/Shanghai" in response.text
    assert "__WG_CONFIG__" not in response.text


@pytest.mark.parametrize(
    ("path", "media"),
    [
        ("/web/app.js", "text/javascript"),
        ("/web/style.css", "text/css"),
        ("/web/vendor/chart.js/chart.umd.min.js", "text/javascript"),
        ("/web/vendor/chart.js/LICENSE.md", "text/plain"),
    ],
)
def test_assets_are_served(client: TestClient, path: str, media: str) -> None:
    response = client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media)


@pytest.mark.parametrize(
    "path", ["/web/../main.py", "/web/%2e%2e/main.py", "/web/nothing.js", "/web/index.html",
             "/web/service.py"],
)  # fmt: skip
def test_nothing_outside_the_static_folder_is_served(client: TestClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 404


def test_no_file_loads_anything_from_the_network() -> None:
    for path in STATIC_DIR.rglob("*"):
        if path.suffix not in {".html", ".js", ".css"} or "vendor" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        assert not EXTERNAL.search(text), path


def test_every_vendored_package_has_its_licence() -> None:
    vendor = STATIC_DIR / "vendor"
    packages = [p for p in vendor.iterdir() if p.is_dir()]

    assert packages
    for package in packages:
        assert any(f.name.upper().startswith(("LICENSE", "LICENCE")) for f in package.iterdir())
        assert package.name in (vendor / "README.md").read_text(encoding="utf-8")


def test_chinese_and_english_have_the_same_strings() -> None:
    text = (STATIC_DIR / "i18n.js").read_text(encoding="utf-8")
    zh, en = text.split("\n  en: {", 1)
    keys = re.compile(r'(?:^\s+|", )(\w+): "', re.MULTILINE)
    zh_keys = set(keys.findall(zh.split('"zh-CN": {', 1)[1]))

    assert zh_keys == set(keys.findall(en.split("\n  },", 1)[0]))
    assert len(zh_keys) > 100


def test_every_string_the_pages_use_is_translated() -> None:
    strings = (STATIC_DIR / "i18n.js").read_text(encoding="utf-8")
    used = set(re.findall(r'data-i18n="(\w+)"', (STATIC_DIR / "index.html").read_text("utf-8")))
    code = (STATIC_DIR / "app.js").read_text("utf-8") + (STATIC_DIR / "map.js").read_text("utf-8")
    used |= set(re.findall(r'\bt\("(\w+)"', code))

    missing = {key for key in used if not re.search(rf"[\s,{{]{key}: \"", strings)}
    assert not missing
