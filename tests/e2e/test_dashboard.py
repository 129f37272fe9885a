"""The whole loop in a real browser: a sighting becomes an incident on the operator's screen,
the operator escalates it, the ground unit's phone gets the alert live and acknowledges,
and district command's statistics change. Screenshots go to test-artifacts/e2e/."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
expect = playwright_api.expect

pytestmark = pytest.mark.e2e

PASSWORDS = {"command": "demo-command-pass", "operator": "demo-operator-pass",
             "unit": "demo-unit-pass"}  # fmt: skip
TIMEOUT_MS = 20_000


def _page(browser: Any, base: str, *, phone: bool = False, lang: str = "zh-CN") -> Any:
    viewport = {"width": 390, "height": 844} if phone else {"width": 1600, "height": 950}
    context = browser.new_context(viewport=viewport, locale=lang)
    page = context.new_page()
    page.add_init_script("sessionStorage.setItem('wg.poll_ms', '1000')")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    page.goto(base + "/")
    return page


def _login(page: Any, username: str) -> None:
    page.fill("#username", username)
    page.fill("#password", PASSWORDS[username])
    page.click("#login-submit")
    page.wait_for_selector("#shell:not([hidden])", timeout=TIMEOUT_MS)


def _token(base: str, username: str) -> str:
    response = httpx.post(
        f"{base}/auth/token", data={"username": username, "password": PASSWORDS[username]}
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def _kpi(page: Any, key: str) -> str:
    return str(page.inner_text(f'[data-kpi="{key}"] .v'))


def test_login_is_refused_with_a_wrong_password(browser: Any, live_server: str) -> None:
    page = _page(browser, live_server)

    page.fill("#username", "operator")
    page.fill("#password", "not-the-password")
    page.click("#login-submit")

    page.wait_for_selector("#login-error:has-text('登录失败')", timeout=TIMEOUT_MS)
    assert page.is_hidden("#shell")
    page.context.close()


def test_the_loop_from_sighting_to_statistics(
    browser: Any, live_server: str, artifacts: Path
) -> None:
    command = _page(browser, live_server)
    _login(command, "command")
    command.goto(live_server + "/#stats")
    command.wait_for_selector('[data-kpi="k_incidents"]', timeout=TIMEOUT_MS)
    incidents_before = int(_kpi(command, "k_incidents"))
    command.screenshot(path=artifacts / "01-command-stats-before.png")

    operator = _page(browser, live_server)
    _login(operator, "operator")
    operator.goto(live_server + "/#map")
    operator.wait_for_selector("svg#map path.water", timeout=TIMEOUT_MS)
    assert operator.locator("svg#map path.water").count() >= 3
    assert operator.locator("svg#map path.nofly").count() >= 1
    assert operator.inner_text("#scale span").endswith(("m", "km"))
    operator.screenshot(path=artifacts / "02-operator-map.png")

    unit = _page(browser, live_server, phone=True)
    _login(unit, "unit")
    unit.wait_for_selector("#view-unit:not([hidden])", timeout=TIMEOUT_MS)
    expect(unit.locator("#live")).not_to_have_class(re.compile(r"\boff\b"), timeout=TIMEOUT_MS)

    sighting = httpx.post(
        f"{live_server}/sightings",
        headers={"Authorization": f"Bearer {_token(live_server, 'operator')}"},
        json={
            "client_id": "e2e-dongmen-beach-0001",
            "lon": 106.2606,
            "lat": 29.2974,
            "seen_at": datetime.now(UTC).isoformat(),
            "people_count": 2,
            "is_deep_water": True,
            "is_suspected_minor": True,
        },
    )
    assert sighting.status_code == 201, sighting.text
    incident_id = sighting.json()["incident_id"]

    # The incident appears on the operator's map and queue without a reload.
    operator.wait_for_selector(f'svg#map circle[data-incident="{incident_id}"]', timeout=TIMEOUT_MS)
    operator.screenshot(path=artifacts / "03-operator-map-incident.png")
    operator.click('#nav a[data-view="ops"]')
    row = operator.locator(f'#queue tr[data-id="{incident_id}"]')
    row.wait_for(timeout=TIMEOUT_MS)
    operator.screenshot(path=artifacts / "04-operator-queue.png")
    # A suspected child in deep water is critical: the first-response policy sends a unit at
    # once, so the queue shows it dispatched and its escalate button is off.
    operator.wait_for_selector(
        f'#queue tr[data-id="{incident_id}"] .state.dispatched', timeout=TIMEOUT_MS
    )
    expect(row.locator('button[data-act="escalate"]')).to_be_disabled()

    # The unit's phone gets the dispatch over the alert stream and acknowledges it.
    card = unit.locator(f'.card[data-id="{incident_id}"]')
    card.wait_for(timeout=TIMEOUT_MS)
    unit.screenshot(path=artifacts / "05-unit-alert.png")
    card.locator('button[data-act="acknowledge"]').click()
    unit.wait_for_selector(f'.card.acknowledged[data-id="{incident_id}"]', timeout=TIMEOUT_MS)
    unit.screenshot(path=artifacts / "06-unit-acknowledged.png")

    # Command's statistics follow: one more incident, and an acknowledgement time.
    expect(command.locator('[data-kpi="k_incidents"] .v')).to_have_text(
        str(incidents_before + 1), timeout=TIMEOUT_MS
    )
    today = datetime.now(UTC).date()
    summary = httpx.get(
        f"{live_server}/stats/summary",
        params={"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))},
        headers={"Authorization": f"Bearer {_token(live_server, 'command')}"},
    ).json()
    assert summary["response_times"]["to_acknowledgement"]["count"] >= 1
    assert summary["sightings"]["minors_sighted"] >= 2
    command.screenshot(path=artifacts / "07-command-stats-after.png")

    for page in (command, operator, unit):
        assert page.errors == [], page.errors
        page.context.close()


def test_english_and_exports(browser: Any, live_server: str, artifacts: Path) -> None:
    page = _page(browser, live_server)
    page.click("#login .lang-toggle")
    _login(page, "command")
    page.goto(live_server + "/#stats")
    page.wait_for_selector('[data-kpi="k_found"]', timeout=TIMEOUT_MS)

    assert page.inner_text('[data-kpi="k_found"] .k') == "Persons found"
    with page.expect_download(timeout=TIMEOUT_MS) as download:
        page.click('button[data-export="summary"][data-format="xlsx"]')
    assert download.value.suggested_filename.endswith(".xlsx")
    page.screenshot(path=artifacts / "08-command-stats-en.png")
    assert page.errors == [], page.errors
    page.context.close()


def test_a_flying_drone_appears_on_the_map_live(
    browser: Any, live_server: str, artifacts: Path
) -> None:
    headers = {"Authorization": f"Bearer {_token(live_server, 'operator')}"}
    page = _page(browser, live_server)
    _login(page, "operator")
    page.goto(live_server + "/#map")
    page.wait_for_selector("svg#map path.water", timeout=TIMEOUT_MS)
    waterways = httpx.get(f"{live_server}/waterways", headers=headers).json()["items"]
    river = next(w for w in waterways if w["name"].startswith("长江"))
    drones = httpx.get(f"{live_server}/drones", headers=headers).json()["items"]
    drone = next(d for d in drones if d["station_id"] == river["station_id"])

    mission = httpx.post(
        f"{live_server}/missions",
        headers=headers,
        json={"waterway_id": river["id"], "drone_model_id": drone["model_id"], "pattern": "bank"},
        timeout=60,
    )
    assert mission.status_code == 201, mission.text
    now = datetime.now(UTC)
    sortie = httpx.post(
        f"{live_server}/sorties",
        headers=headers,
        json={"drone_id": drone["id"], "mission_id": mission.json()["id"],
              "planned_start": now.isoformat()},
    )  # fmt: skip
    assert sortie.status_code == 201, sortie.text
    sortie_url = f"{live_server}/sorties/{sortie.json()['id']}"
    preflight = httpx.post(
        f"{sortie_url}/transition",
        headers=headers,
        json={"to": "preflight", "battery_pct": 95, "wind_mps": 2},
    )
    if preflight.status_code != 200:
        pytest.skip(f"the sortie service refused the pre-flight now: {preflight.text}")
    airborne = httpx.post(f"{sortie_url}/transition", headers=headers, json={"to": "airborne"})
    assert airborne.status_code == 200, airborne.text
    sample = {"at": datetime.now(UTC).isoformat(), "lon": 106.2550, "lat": 29.2985,
              "alt_m": 60, "battery_pct": 81}  # fmt: skip
    telemetry = httpx.post(f"{sortie_url}/telemetry", headers=headers, json={"samples": [sample]})
    assert telemetry.status_code in {200, 201}, telemetry.text

    page.locator("svg#map .layer-drones path.drone").wait_for(timeout=TIMEOUT_MS)
    expect(page.locator("#drone-count")).to_have_text("1", timeout=TIMEOUT_MS)
    assert drone["name"] in page.inner_text("#side-drones")
    page.screenshot(path=artifacts / "09-operator-map-drone.png")
    assert page.errors == [], page.errors
    page.context.close()
