"""Command's and the operator's screens at 1440 px in both languages: the per-station table
in one request, cleared incidents labelled, and the queue's action buttons never clipped.

Screenshots go to test-artifacts/e2e/ (command-*.png, queue-*.png)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.seed import DEMO_LOGINS

playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
expect = playwright_api.expect

pytestmark = pytest.mark.e2e

PASSWORDS = {login.username: login.password for login in DEMO_LOGINS}
TIMEOUT_MS = 20_000
DESKTOP = {"width": 1440, "height": 900}


_TOKENS: dict[tuple[str, str], str] = {}


def _headers(base: str, username: str) -> dict[str, str]:
    """One API login per user and server (the login rate limit counts every one)."""
    if (base, username) not in _TOKENS:
        response = httpx.post(
            f"{base}/auth/token", data={"username": username, "password": PASSWORDS[username]}
        )
        response.raise_for_status()
        _TOKENS[(base, username)] = str(response.json()["access_token"])
    return {"Authorization": f"Bearer {_TOKENS[(base, username)]}"}


def _page(browser: Any, base: str, username: str, lang: str) -> Any:
    context = browser.new_context(viewport=DESKTOP, locale=lang)
    page = context.new_page()
    page.add_init_script("sessionStorage.setItem('wg.poll_ms', '1000')")
    page.add_init_script(f"sessionStorage.setItem('wg.lang', '{lang}')")
    page.errors = []
    page.requests = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on(
        "console",
        lambda message: page.errors.append(message.text) if message.type == "error" else None,
    )
    page.on("request", lambda request: page.requests.append(request.url))
    page.goto(base + "/")
    page.fill("#username", username)
    page.fill("#password", PASSWORDS[username])
    page.click("#login-submit")
    page.wait_for_selector("#shell:not([hidden])", timeout=TIMEOUT_MS)
    return page


def _sighting(base: str, client_id: str) -> int:
    response = httpx.post(
        f"{base}/sightings",
        headers=_headers(base, "operator"),
        json={"client_id": client_id, "lon": 106.2606, "lat": 29.2974,
              "seen_at": datetime.now(UTC).isoformat(), "people_count": 2},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    return int(response.json()["incident_id"])


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_queue_s_action_buttons_are_not_clipped_at_1440_px(
    browser: Any, live_server: str, artifacts: Path, lang: str
) -> None:
    incident_id = _sighting(live_server, f"e2e-queue-{lang}-0001")
    page = _page(browser, live_server, "operator", lang)
    page.goto(live_server + "/#ops")
    row = page.locator(f'#queue tr[data-id="{incident_id}"]')
    row.wait_for(timeout=TIMEOUT_MS)
    page.screenshot(path=artifacts / f"queue-{lang}.png")

    cell = row.locator("td.actions")
    clip = cell.evaluate("td => [td.scrollWidth, td.clientWidth]")
    assert clip[0] <= clip[1], clip
    panel = page.locator("#view-ops .panel.grow").bounding_box()
    for button in row.locator("td.actions button, td.actions select").all():
        box = button.bounding_box()
        assert box["x"] + box["width"] <= panel["x"] + panel["width"], button.inner_text()
    assert page.errors == [], page.errors
    page.context.close()


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_command_reads_the_station_table_in_one_request(
    browser: Any, live_server: str, artifacts: Path, lang: str
) -> None:
    incident_id = _sighting(live_server, f"e2e-cleared-{lang}-0001")
    operator = _headers(live_server, "operator")
    warned = httpx.post(
        f"{live_server}/incidents/{incident_id}/warnings",
        headers=operator,
        json={"modes": ["voice"], "message_key": "deep_water"},
    )
    assert warned.status_code == 201, warned.text
    cleared = httpx.post(f"{live_server}/incidents/{incident_id}/clear", headers=operator)
    assert cleared.status_code == 200, cleared.text

    page = _page(browser, live_server, "command", lang)
    page.goto(live_server + "/#stats")
    page.wait_for_selector("#stations tbody tr", timeout=TIMEOUT_MS)
    page.wait_for_selector('[data-kpi="k_hours"]', timeout=TIMEOUT_MS)
    page.wait_for_timeout(1000)
    page.screenshot(path=artifacts / f"command-stats-{lang}.png", full_page=True)

    per_station = [u for u in page.requests if "/stats/summary" in u and "station_id=" in u]
    assert per_station == []
    assert sum("/stats/stations" in u for u in page.requests) >= 1
    assert page.locator("#stations tbody tr").count() >= 3
    planned = "计划" if lang == "zh-CN" else "planned"
    expect(page.locator('[data-kpi="k_hours"] .s')).to_contain_text(planned)
    assert page.errors == [], page.errors

    page.goto(live_server + "/#ops")
    page.check("#queue-all")
    row = page.locator(f'#queue tr[data-id="{incident_id}"]')
    row.wait_for(timeout=TIMEOUT_MS)
    label = "空中劝离" if lang == "zh-CN" else "cleared from the air"
    expect(row.locator("td.actions")).to_have_text(label)
    assert page.errors == [], page.errors
    page.context.close()
