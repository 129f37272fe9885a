"""A dock-flown sortie on the operator's screen: its dock flight block, and Pause / Resume /
Return home from the dashboard.

The sortie is booked and flown to ``airborne`` through the API; its flight task (what the
flight runner writes once a dock took the task) is written straight into the live server's
database. This server runs no MQTT bridge, so the API answers every command 503: the
dashboard must show that error. The dashboard's side of a command the dock carried out is
checked against a stand-in for the three flight routes (``page.route``); the API's side of
it, on a real broker with the flying dock simulator, is
``tests/app/dji/test_flight_control.py``.

Screenshots go to test-artifacts/e2e/ (dock-*.png)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from app.db import make_engine, make_sessionmaker, session_scope
from app.models import DjiFlightTask  # every table, so the foreign keys resolve
from app.seed import DEMO_LOGINS

playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
expect = playwright_api.expect

pytestmark = pytest.mark.e2e

PASSWORDS = {login.username: login.password for login in DEMO_LOGINS}
TIMEOUT_MS = 20_000
DESKTOP = {"width": 1440, "height": 900}
NO_BRIDGE = "the DJI bridge is not running"
AIRBORNE = {"zh-CN": "航线飞行中", "en": "flying the route"}
BASELINE: dict[str, Any] = {
    "state": "airborne",
    "paused": False,
    "waypoint_index": 3,
    "current_step": 25,
    "dji_status": "in_progress",
    "dji_result": 0,
    "offline_at": None,
    "reason_en": None,
    "reason_zh": None,
    "live_state": None,
    "live_lens": None,
    "live_reason": None,
}


def _headers(base: str, username: str) -> dict[str, str]:
    response = httpx.post(
        f"{base}/auth/token", data={"username": username, "password": PASSWORDS[username]}
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _write_task(database_url: str, sortie_id: int, **values: Any) -> None:
    """Insert the sortie's flight task, or set ``values`` on it (as the bridge would)."""
    engine = make_engine(database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            changed = session.execute(
                update(DjiFlightTask).where(DjiFlightTask.sortie_id == sortie_id).values(**values)
            )
            if changed.rowcount == 0:  # type: ignore[attr-defined]
                now = datetime.now(UTC)
                session.add(
                    DjiFlightTask(
                        sortie_id=sortie_id,
                        flight_id=str(uuid.uuid4()),
                        gateway_sn="E2EDOCK00000001",
                        aircraft_sn="E2EAIRCRAFT0001",
                        execute_at=now,
                        prepared_at=now,
                        executed_at=now,
                        **values,
                    )
                )
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def dock_sortie(live_server: str, live_database_url: str) -> Iterator[int]:
    """The Degan dock's aircraft (an M3TD: no loudspeaker) airborne over the reservoir on a
    flight task; another station's drone than the river's, which the other browser tests fly."""
    headers = _headers(live_server, "operator")
    waterways = httpx.get(f"{live_server}/waterways", headers=headers).json()["items"]
    reservoir = next(w for w in waterways if w["name"].startswith("德感"))
    drones = httpx.get(f"{live_server}/drones", headers=headers).json()["items"]
    drone = next(d for d in drones if d["station_id"] == reservoir["station_id"])
    mission = httpx.post(
        f"{live_server}/missions",
        headers=headers,
        json={"waterway_id": reservoir["id"], "drone_model_id": drone["model_id"],
              "pattern": "bank"},
        timeout=60,
    )  # fmt: skip
    assert mission.status_code == 201, mission.text
    sortie = httpx.post(
        f"{live_server}/sorties",
        headers=headers,
        json={"drone_id": drone["id"], "mission_id": mission.json()["id"],
              "planned_start": datetime.now(UTC).isoformat(), "needs_speaker": False},
    )  # fmt: skip
    assert sortie.status_code == 201, sortie.text
    sortie_id = int(sortie.json()["id"])
    url = f"{live_server}/sorties/{sortie_id}/transition"
    for step in ({"to": "preflight", "battery_pct": 95, "wind_mps": 2}, {"to": "airborne"}):
        moved = httpx.post(url, headers=headers, json=step)
        assert moved.status_code == 200, moved.text
    _write_task(live_database_url, sortie_id, **BASELINE)
    yield sortie_id
    for step in ({"to": "returning"}, {"to": "landed"}):  # no drone left in the air
        landing = httpx.post(url, headers=headers, json=step)
        assert landing.status_code == 200, landing.text


@pytest.fixture
def task(dock_sortie: int, live_database_url: str) -> int:
    """The sortie, its task set back to airborne and not paused before each test."""
    _write_task(live_database_url, dock_sortie, **BASELINE)
    return dock_sortie


def _page(browser: Any, base: str, username: str, lang: str = "zh-CN") -> Any:
    context = browser.new_context(viewport=DESKTOP, locale=lang)
    page = context.new_page()
    page.add_init_script("sessionStorage.setItem('wg.poll_ms', '1000')")
    page.add_init_script(f"sessionStorage.setItem('wg.lang', '{lang}')")
    page.errors = []
    page.posts = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    # A command the API refuses is an error response, which Chromium also logs; anything
    # else on the console is a fault of the page.
    page.on(
        "console",
        lambda message: (
            page.errors.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text
            else None
        ),
    )
    page.on(
        "request",
        lambda request: page.posts.append(request.url) if request.method == "POST" else None,
    )
    page.goto(base + "/")
    page.fill("#username", username)
    page.fill("#password", PASSWORDS[username])
    page.click("#login-submit")
    page.wait_for_selector("#shell:not([hidden])", timeout=TIMEOUT_MS)
    page.goto(base + "/#ops")
    return page


def _block(page: Any, sortie_id: int) -> Any:
    block = page.locator(f'#sorties tr[data-dock="{sortie_id}"] .dock')
    block.wait_for(timeout=TIMEOUT_MS)
    return block


def _commands(page: Any, sortie_id: int) -> list[str]:
    prefix = f"/dji/flights/{sortie_id}/"
    return [url.split(prefix, 1)[1] for url in page.posts if prefix in url]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_an_airborne_dock_flight_shows_its_block_and_a_refused_pause_shows_why(
    browser: Any, live_server: str, task: int, artifacts: Path, lang: str
) -> None:
    page = _page(browser, live_server, "operator", lang)

    block = _block(page, task)
    expect(block.locator(".dock-head .state")).to_have_text(AIRBORNE[lang])
    expect(block.locator('[data-field="paused"]')).to_contain_text(
        "未暂停" if lang == "zh-CN" else "not paused"
    )
    expect(block.locator('[data-field="waypoint"]')).to_contain_text("3")
    expect(block.locator('[data-field="dji"]')).to_contain_text("in_progress")
    assert block.locator('[data-field="offline"], .dock-reason, .dock-error').count() == 0
    expect(block.locator('[data-dock-act="pause"]')).to_have_text(
        "暂停" if lang == "zh-CN" else "Pause"
    )
    expect(block.locator('[data-dock-act="return-home"]')).to_have_text(
        "返航" if lang == "zh-CN" else "Return home"
    )
    assert block.locator('[data-dock-act="resume"]').count() == 0
    page.screenshot(path=artifacts / f"dock-block-{lang}.png")

    block.locator('[data-dock-act="pause"]').click()

    expect(block.locator(".dock-error")).to_contain_text(NO_BRIDGE, timeout=TIMEOUT_MS)
    expect(block.locator(".dock-error")).to_contain_text(
        "机场离线或未应答" if lang == "zh-CN" else "The dock is offline or did not answer"
    )
    expect(page.locator("#toast.bad")).to_contain_text(NO_BRIDGE)
    # Nothing changed on the aircraft, so the block still offers the pause.
    expect(block.locator('[data-dock-act="pause"]')).to_be_enabled()
    assert _commands(page, task) == ["pause"]
    page.screenshot(path=artifacts / f"dock-error-{lang}.png")
    assert page.errors == [], page.errors
    page.context.close()


def test_return_home_asks_first_and_the_block_follows_the_task(
    browser: Any, live_server: str, live_database_url: str, task: int, artifacts: Path
) -> None:
    page = _page(browser, live_server, "operator")
    block = _block(page, task)

    block.locator('[data-dock-act="return-home"]').click()
    expect(block.locator(".acts.confirm")).to_contain_text("确认让无人机返航回机场？")
    block.locator('[data-dock-act="cancel"]').click()
    expect(block.locator(".acts.confirm")).to_have_count(0)
    assert _commands(page, task) == []

    block.locator('[data-dock-act="return-home"]').click()
    block.locator('[data-dock-act="confirm-return"]').click()
    expect(block.locator(".dock-error")).to_contain_text(NO_BRIDGE, timeout=TIMEOUT_MS)
    assert _commands(page, task) == ["return-home"]

    # The bridge marks the task paused and its dock offline: the poll shows it.
    _write_task(
        live_database_url,
        task,
        paused=True,
        offline_at=datetime.now(UTC),
        reason_en="the dock went offline in flight",
        reason_zh="机场在飞行中离线",
    )
    expect(block.locator('[data-field="offline"]')).to_be_visible(timeout=TIMEOUT_MS)
    expect(block.locator(".dock-reason")).to_contain_text("机场在飞行中离线")
    expect(block.locator('[data-field="paused"]')).to_contain_text("已暂停")
    expect(block.locator('[data-dock-act="resume"]')).to_have_text("继续")
    expect(block.locator('[data-dock-act="return-home"]')).to_be_visible()
    assert block.locator('[data-dock-act="pause"]').count() == 0

    page.click(".lang-toggle >> visible=true")
    block = _block(page, task)
    expect(block.locator(".dock-reason")).to_contain_text("the dock went offline in flight")
    expect(block.locator(".dock-error")).to_contain_text("The dock is offline or did not answer")
    expect(block.locator('[data-field="paused"]')).to_have_text("paused")
    page.screenshot(path=artifacts / "dock-offline-en.png")

    # The bridge started the aircraft's live video on the infrared lens.
    _write_task(live_database_url, task, live_state="pushing", live_lens="ir")
    expect(block.locator('[data-field="live"]')).to_contain_text(
        "streaming · infrared", timeout=TIMEOUT_MS
    )

    _write_task(live_database_url, task, state="returning", paused=False)
    expect(block.locator(".dock-head .state")).to_have_text("returning home", timeout=TIMEOUT_MS)
    assert block.locator("[data-dock-act]").count() == 0
    assert page.errors == [], page.errors
    page.context.close()


def test_the_dashboard_follows_a_command_the_dock_carried_out(
    browser: Any, live_server: str, task: int, artifacts: Path
) -> None:
    """The three routes answered by a stand-in that acts like the API over a dock that
    takes every command but the first pause (a 200 with the task unchanged: a DJI code)."""
    flight = httpx.get(
        f"{live_server}/dji/flights/{task}", headers=_headers(live_server, "operator")
    ).json()
    taken: list[str] = []

    def dock(route: Any) -> None:
        command = route.request.url.rsplit("/", 1)[1]
        if route.request.method == "POST":
            if command == "pause" and "pause-refused" not in taken:
                taken.append("pause-refused")
            elif command == "pause":
                flight["paused"] = True
            elif command == "resume":
                flight["paused"] = False
            elif command == "return-home":
                flight.update(state="returning", paused=False)
            taken.append(command)
        route.fulfill(status=200, content_type="application/json", body=json.dumps(flight))

    page = _page(browser, live_server, "operator")
    page.route(f"**/dji/flights/{task}", dock)
    page.route(f"**/dji/flights/{task}/*", dock)
    block = _block(page, task)

    block.locator('[data-dock-act="pause"]').click()
    expect(page.locator("#toast.bad")).to_contain_text("机场未执行该指令")
    expect(block.locator(".dock-error")).to_contain_text("机场未执行该指令")
    expect(block.locator('[data-dock-act="pause"]')).to_be_enabled()

    block.locator('[data-dock-act="pause"]').click()
    expect(page.locator("#toast:not(.bad)")).to_contain_text("已暂停")
    expect(block.locator('[data-field="paused"]')).to_contain_text("已暂停")
    expect(block.locator('[data-dock-act="resume"]')).to_be_visible()
    assert block.locator('[data-dock-act="pause"], .dock-error').count() == 0
    page.screenshot(path=artifacts / "dock-paused.png")

    block.locator('[data-dock-act="resume"]').click()
    expect(page.locator("#toast:not(.bad)")).to_contain_text("已继续航线飞行")
    expect(block.locator('[data-dock-act="pause"]')).to_be_visible()

    block.locator('[data-dock-act="return-home"]').click()
    block.locator('[data-dock-act="confirm-return"]').click()
    expect(page.locator("#toast:not(.bad)")).to_contain_text("已下达返航指令")
    expect(block.locator(".dock-head .state")).to_have_text("返航中")
    assert block.locator("[data-dock-act]").count() == 0
    assert taken == ["pause-refused", "pause", "pause", "resume", "return-home"]
    assert page.errors == [], page.errors
    page.context.close()


@pytest.mark.parametrize(("username", "may_command"), [("command", True), ("admin", False)])
def test_only_the_roles_that_may_command_a_dock_see_its_block(
    browser: Any, live_server: str, task: int, username: str, may_command: bool
) -> None:
    page = _page(browser, live_server, username)
    page.locator(f'#sorties tr[data-sortie="{task}"]').wait_for(timeout=TIMEOUT_MS)

    if may_command:
        block = _block(page, task)
        expect(block.locator('[data-dock-act="pause"]')).to_be_visible()
        expect(block.locator('[data-dock-act="return-home"]')).to_be_visible()
    else:
        page.click(f'#sorties tr[data-sortie="{task}"]')
        page.wait_for_timeout(1500)  # a poll or two
        assert page.locator("#sorties tr[data-dock]").count() == 0
        asked = page.evaluate(
            "performance.getEntriesByType('resource').map((e) => e.name)"
            ".filter((n) => n.includes('/dji/flights/'))"
        )
        assert asked == []
    assert page.errors == [], page.errors
    page.context.close()
