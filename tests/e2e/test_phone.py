"""A ground unit's phone at 390 px: its alert, acknowledgement, the outcome it chooses with a
confirmation, its map with the drone over the incident, and its own live position.

Screenshots go to test-artifacts/e2e/ (phone-*.png)."""

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
PHONE = {"width": 390, "height": 844}
AT_THE_BEACH = (106.2606, 29.2974)  # 东门滨江沙滩, Jijiang
UNIT_FIX = (106.2581, 29.2952)  # the phone's GPS fix, a street above the beach


_TOKENS: dict[tuple[str, str], str] = {}


def _token(base: str, username: str) -> str:
    """One API login per user and server (the login rate limit counts every one)."""
    if (base, username) not in _TOKENS:
        response = httpx.post(
            f"{base}/auth/token", data={"username": username, "password": PASSWORDS[username]}
        )
        response.raise_for_status()
        _TOKENS[(base, username)] = str(response.json()["access_token"])
    return _TOKENS[(base, username)]


def _headers(base: str, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {_token(base, username)}"}


def _phone(browser: Any, base: str, lang: str = "zh-CN") -> Any:
    context = browser.new_context(
        viewport=PHONE,
        locale=lang,
        permissions=["geolocation"],
        geolocation={"longitude": UNIT_FIX[0], "latitude": UNIT_FIX[1], "accuracy": 10},
    )
    page = context.new_page()
    page.add_init_script("sessionStorage.setItem('wg.poll_ms', '1000')")
    if lang == "en":
        page.add_init_script("sessionStorage.setItem('wg.lang', 'en')")
    page.errors = []
    page.refused = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on(
        "console",
        lambda message: page.errors.append(message.text) if message.type == "error" else None,
    )
    page.on(
        "response",
        lambda response: (
            page.refused.append(f"{response.status} {response.url}")
            if response.status in {401, 403}
            else None
        ),
    )
    page.goto(base + "/")
    page.fill("#username", "unit")
    page.fill("#password", PASSWORDS["unit"])
    page.click("#login-submit")
    page.wait_for_selector("#view-unit:not([hidden])", timeout=TIMEOUT_MS)
    return page


def _free_the_unit(base: str) -> int:
    """Earlier tests may have left the demo unit busy: resolve its open incidents."""
    operator = _headers(base, "operator")
    unit = httpx.get(f"{base}/auth/me", headers=_headers(base, "unit")).json()
    mine = httpx.get(f"{base}/incidents?limit=500", headers=_headers(base, "unit")).json()
    for incident in mine["items"]:
        if incident["state"] not in {"cleared", "resolved", "closed"}:
            httpx.post(
                f"{base}/incidents/{incident['id']}/resolve",
                headers=operator,
                json={"outcome": "dissuaded"},
            )
    return int(unit["ground_unit_id"])


def _fly_over(base: str, lon: float, lat: float) -> str | None:
    """A drone of the river's station airborne with one fix over (lon, lat); its name."""
    headers = _headers(base, "operator")
    waterways = httpx.get(f"{base}/waterways", headers=headers).json()["items"]
    river = next(w for w in waterways if w["name"].startswith("长江"))
    drones = httpx.get(f"{base}/drones", headers=headers).json()["items"]
    for drone in drones:
        if drone["station_id"] != river["station_id"]:
            continue
        mission = httpx.post(
            f"{base}/missions",
            headers=headers,
            json={"waterway_id": river["id"], "drone_model_id": drone["model_id"],
                  "pattern": "bank"},
            timeout=60,
        )  # fmt: skip
        assert mission.status_code == 201, mission.text
        sortie = httpx.post(
            f"{base}/sorties",
            headers=headers,
            json={"drone_id": drone["id"], "mission_id": mission.json()["id"],
                  "planned_start": datetime.now(UTC).isoformat()},
        )  # fmt: skip
        if sortie.status_code != 201:
            continue  # this drone is booked by an earlier test: take the next one
        url = f"{base}/sorties/{sortie.json()['id']}"
        for step in ({"to": "preflight", "battery_pct": 95, "wind_mps": 2}, {"to": "airborne"}):
            response = httpx.post(f"{url}/transition", headers=headers, json=step)
            assert response.status_code == 200, response.text
        sample = {"at": datetime.now(UTC).isoformat(), "lon": lon, "lat": lat + 0.0004,
                  "alt_m": 60, "battery_pct": 80}  # fmt: skip
        sent = httpx.post(f"{url}/telemetry", headers=headers, json={"samples": [sample]})
        assert sent.status_code in {200, 201}, sent.text
        return str(drone["name"])
    return None


def _dispatch(base: str, client_id: str) -> int:
    operator = _headers(base, "operator")
    sighting = httpx.post(
        f"{base}/sightings",
        headers=operator,
        json={"client_id": client_id, "lon": AT_THE_BEACH[0], "lat": AT_THE_BEACH[1],
              "seen_at": datetime.now(UTC).isoformat(), "people_count": 3,
              "is_deep_water": True},
    )  # fmt: skip
    assert sighting.status_code == 201, sighting.text
    incident_id = int(sighting.json()["incident_id"])
    escalated = httpx.post(f"{base}/incidents/{incident_id}/escalate", headers=operator)
    assert escalated.status_code == 200, escalated.text
    return incident_id


def test_the_unit_chooses_the_outcome_and_confirms_it(
    browser: Any, live_server: str, artifacts: Path
) -> None:
    unit_id = _free_the_unit(live_server)
    drone_name = _fly_over(live_server, *AT_THE_BEACH)
    page = _phone(browser, live_server)
    incident_id = _dispatch(live_server, "e2e-phone-outcome-0001")

    card = page.locator(f'.card[data-id="{incident_id}"]')
    card.wait_for(timeout=TIMEOUT_MS)
    resolve = card.locator('button[data-act="resolve"]')
    expect(resolve).to_be_disabled()  # acknowledge first
    if drone_name is not None:
        expect(card.locator(".drone-over")).to_contain_text(drone_name, timeout=TIMEOUT_MS)
    page.screenshot(path=artifacts / "phone-1-alert.png")
    card.locator('button[data-act="acknowledge"]').click()
    page.wait_for_selector(f'.card.acknowledged[data-id="{incident_id}"]', timeout=TIMEOUT_MS)
    card.locator('button[data-act="resolve"]').click()
    card.locator('button[data-outcome="rescued"]').click()
    expect(card.locator(".pick.confirm")).to_contain_text("救起")
    page.screenshot(path=artifacts / "phone-2-confirm.png")
    card.locator('button[data-act="confirm"]').click()
    expect(card).to_have_count(0, timeout=TIMEOUT_MS)

    incident = httpx.get(
        f"{live_server}/incidents/{incident_id}", headers=_headers(live_server, "operator")
    ).json()
    assert (incident["state"], incident["outcome"]) == ("resolved", "rescued")
    unit = httpx.get(
        f"{live_server}/units/{unit_id}", headers=_headers(live_server, "operator")
    ).json()
    assert (unit["last_lon"], unit["last_lat"]) == pytest.approx(UNIT_FIX)
    assert page.errors == [], page.errors
    assert page.refused == [], page.refused
    page.context.close()


def test_a_cancelled_choice_resolves_nothing(browser: Any, live_server: str) -> None:
    _free_the_unit(live_server)
    page = _phone(browser, live_server, lang="en")
    incident_id = _dispatch(live_server, "e2e-phone-cancel-0001")
    card = page.locator(f'.card[data-id="{incident_id}"]')
    card.wait_for(timeout=TIMEOUT_MS)
    card.locator('button[data-act="acknowledge"]').click()
    page.wait_for_selector(f'.card.acknowledged[data-id="{incident_id}"]', timeout=TIMEOUT_MS)

    card.locator('button[data-act="resolve"]').click()
    card.locator('button[data-outcome="false_alarm"]').click()
    expect(card.locator(".pick.confirm")).to_contain_text("false alarm")
    card.locator('button[data-act="cancel"]').click()

    expect(card.locator(".pick")).to_have_count(0)
    incident = httpx.get(
        f"{live_server}/incidents/{incident_id}", headers=_headers(live_server, "operator")
    ).json()
    assert incident["state"] == "acknowledged"
    assert page.errors == [], page.errors
    page.context.close()


def test_the_unit_map_works_at_390_px(browser: Any, live_server: str, artifacts: Path) -> None:
    _free_the_unit(live_server)
    page = _phone(browser, live_server)
    incident_id = _dispatch(live_server, "e2e-phone-map-0001")
    page.locator(f'.card[data-id="{incident_id}"]').wait_for(timeout=TIMEOUT_MS)

    page.click('#nav a[data-view="map"]')
    page.wait_for_selector("svg#map path.water", timeout=TIMEOUT_MS)
    page.wait_for_selector(f'svg#map circle[data-incident="{incident_id}"]', timeout=TIMEOUT_MS)
    page.wait_for_timeout(1500)
    page.screenshot(path=artifacts / "phone-3-map.png")

    svg = page.locator("svg#map").bounding_box()
    assert svg["width"] >= 370
    assert svg["height"] >= 300
    # No panel covers more than a corner of the map.
    for selector in ("#map-layers", "#map-legend"):
        box = page.locator(selector).bounding_box()
        if box is not None:
            assert box["width"] * box["height"] <= 0.12 * svg["width"] * svg["height"], selector
    assert page.errors == [], page.errors
    assert page.refused == [], page.refused
    page.context.close()


def test_a_dispatch_raises_a_notification(browser: Any, live_server: str) -> None:
    _free_the_unit(live_server)
    context = browser.new_context(viewport=PHONE, permissions=["notifications"])
    # Record what the page hands the Notification API (headless Chromium shows nothing).
    context.add_init_script(
        """
        window.__notes = [];
        const Real = window.Notification;
        window.Notification = class extends Real {
          constructor(title, options) {
            super(title, options);
            window.__notes.push({ title, ...options });
          }
        };
        Object.defineProperty(window.Notification, "permission", { get: () => Real.permission });
        window.Notification.requestPermission = Real.requestPermission.bind(Real);
        """
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server + "/")
    page.fill("#username", "unit")
    page.fill("#password", PASSWORDS["unit"])
    page.click("#login-submit")
    page.wait_for_selector("#view-unit:not([hidden])", timeout=TIMEOUT_MS)
    expect(page.locator("#live")).not_to_have_class("live off", timeout=TIMEOUT_MS)

    incident_id = _dispatch(live_server, "e2e-phone-notify-0001")

    page.locator(f'.card[data-id="{incident_id}"]').wait_for(timeout=TIMEOUT_MS)
    page.wait_for_function("window.__notes.length > 0", timeout=TIMEOUT_MS)
    notes = page.evaluate("window.__notes")
    assert [n["tag"] for n in notes] == [f"incident-{incident_id}"]  # not the replayed ones
    assert f"#{incident_id}" in notes[0]["body"]
    assert errors == [], errors
    context.close()
