"""Gateways and their credentials over the API; the broker files confine each gateway."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.auth.security import verify_password
from app.config import Settings
from app.db import session_scope
from app.dji import broker
from app.dji import service as dji_service
from app.dji.models import DjiAircraft, DjiBrokerLogin, DjiGateway
from app.dji.mqtt import BrokerAddress
from app.dji.protocol import Channel, ModelKey, SubDevice, Topology, request, topic
from app.main import create_app
from tests.app.conftest import Auth
from tests.app.dji.conftest import free_port, mosquitto, run, unique_sn
from tests.factories import World


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"dji_broker_dir": tmp_path / "broker"})


def register(
    client: TestClient, auth: Auth, world: World, *, sn: str | None = None, **extra: Any
) -> dict[str, Any]:
    body = {
        "sn": sn or unique_sn("DOCK"),
        "name": "几江 1 号机场",
        "model_key": ModelKey.dock3,
        "station_id": world.demo_station,
        **extra,
    }
    response = client.post("/dji/gateways", headers=auth.role("admin"), json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_a_gateway_gets_credentials_shown_once_and_stored_hashed(
    client: TestClient, auth: Auth, world: World, session: Session, settings: Settings
) -> None:
    aircraft = unique_sn("AC")
    created = register(client, auth, world, aircraft_sns=[aircraft])
    password = created["mqtt_password"]
    gateway = created["gateway"]
    assert created["mqtt_username"] == gateway["mqtt_username"] == f"gw-{gateway['sn']}"
    assert gateway["has_credentials"] is True
    assert [a["sn"] for a in gateway["aircraft"]] == [aircraft]

    row = session.get(DjiGateway, gateway["id"])
    login = session.get(DjiBrokerLogin, gateway["id"])
    assert row is not None
    assert login is not None
    assert password not in (row.password_hash, login.password_hash)
    assert verify_password(password, row.password_hash)  # the project's argon2
    assert broker.verify_mosquitto_hash(password, login.password_hash)

    shown = client.get(f"/dji/gateways/{gateway['id']}", headers=auth.role("admin"))
    assert shown.status_code == 200
    assert "mqtt_password" not in shown.json()
    assert password not in shown.text
    listed = client.get("/dji/gateways", headers=auth.role("admin"))
    assert listed.status_code == 200
    assert gateway["id"] in {g["id"] for g in listed.json()["items"]}
    assert password not in listed.text

    assert settings.dji_broker_dir is not None
    passwd = (settings.dji_broker_dir / broker.PASSWD_FILE).read_text()
    assert f"gw-{gateway['sn']}:{login.password_hash}\n" in passwd
    assert password not in passwd
    acl = (settings.dji_broker_dir / broker.ACL_FILE).read_text()
    assert f"topic write thing/product/{aircraft}/osd\n" in acl

    audited = session.scalars(
        select(AuditEvent).where(AuditEvent.resource_type == "dji_gateways")
    ).all()
    assert "issue_credentials" in {e.action for e in audited}
    assert all(password not in str(e.detail) for e in audited)


def test_rotate_and_revoke(
    client: TestClient, auth: Auth, world: World, session: Session, settings: Settings
) -> None:
    created = register(client, auth, world)
    gateway_id = created["gateway"]["id"]
    rotated = client.post(f"/dji/gateways/{gateway_id}/credentials", headers=auth.role("admin"))
    assert rotated.status_code == 200
    assert rotated.json()["mqtt_password"] != created["mqtt_password"]
    row = session.get(DjiGateway, gateway_id)
    assert row is not None
    assert not verify_password(created["mqtt_password"], row.password_hash)

    revoked = client.delete(f"/dji/gateways/{gateway_id}/credentials", headers=auth.role("admin"))
    assert revoked.status_code == 200
    assert revoked.json()["has_credentials"] is False
    assert revoked.json()["credentials_revoked_at"] is not None
    assert session.get(DjiBrokerLogin, gateway_id) is None
    assert settings.dji_broker_dir is not None
    passwd = (settings.dji_broker_dir / broker.PASSWD_FILE).read_text()
    assert created["gateway"]["mqtt_username"] not in passwd
    actions = set(
        session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.resource_type == "dji_gateways",
                AuditEvent.resource_id == str(gateway_id),
            )
        )
    )
    assert {"issue_credentials", "revoke_credentials"} <= actions


def test_only_admins_and_bad_input_gets_the_error_envelope(
    client: TestClient, auth: Auth, world: World
) -> None:
    sn = unique_sn("DOCK")
    body: dict[str, Any] = {
        "sn": sn,
        "name": "x",
        "model_key": "3-3-0",
        "station_id": world.demo_station,
    }
    for role in ("operator", "command", "station_officer"):
        refused = client.post("/dji/gateways", headers=auth.role(role), json=body)
        assert refused.status_code == 403
        assert refused.json()["error"]
    assert client.get("/dji/gateways").status_code == 401
    not_gateway = client.post(
        "/dji/gateways", headers=auth.role("admin"), json=body | {"model_key": ModelKey.m4td}
    )
    assert not_gateway.status_code == 422
    assert not_gateway.json()["error"] == "NotAGateway"
    register(client, auth, world, sn=sn)
    taken = client.post("/dji/gateways", headers=auth.role("admin"), json=body)
    assert taken.status_code == 409
    assert taken.json()["error"] == "GatewayTaken"
    not_station = client.post(
        "/dji/gateways",
        headers=auth.role("admin"),
        json=body | {"sn": unique_sn("DOCK"), "station_id": world.demo},
    )
    assert not_station.status_code in (404, 422)
    assert client.get("/dji/gateways/999999", headers=auth.role("admin")).status_code == 404


def test_topology_links_aircraft_to_drones_and_ignores_older_messages(
    client: TestClient, auth: Auth, world: World, app: FastAPI, settings: Settings
) -> None:
    created = register(client, auth, world)
    sn = created["gateway"]["sn"]
    aircraft = unique_sn("AC")
    drone = client.post(
        "/drones",
        headers=auth.role("operator"),
        json={
            "serial": aircraft,
            "name": "几江二号",
            "model_id": "m4t",
            "station_id": world.demo_station,
        },
    )
    assert drone.status_code == 201, drone.text
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    with_aircraft = Topology(sn, ModelKey.dock3, (SubDevice(aircraft, ModelKey.m4td, "A"),))
    empty = Topology(sn, ModelKey.dock3, ())
    with session_scope(app.state.sessionmaker) as db:
        applied = dji_service.apply_topology(db, with_aircraft, at=t0, settings=settings)
        assert applied.new_aircraft == (aircraft,)
    with session_scope(app.state.sessionmaker) as db:  # the same message again
        again = dji_service.apply_topology(db, with_aircraft, at=t0, settings=settings)
        assert again.new_aircraft == ()
        assert again.offline_aircraft == ()
        # an older "aircraft gone" arriving late changes nothing
        late = dji_service.apply_topology(
            db, empty, at=t0 - timedelta(seconds=5), settings=settings
        )
        assert late.stale
    shown = client.get(f"/dji/gateways/{created['gateway']['id']}", headers=auth.role("admin"))
    body = shown.json()
    assert body["online"] is True
    assert body["aircraft"][0]["sn"] == aircraft
    assert body["aircraft"][0]["online"] is True
    assert body["aircraft"][0]["drone_id"] == drone.json()["id"]
    with session_scope(app.state.sessionmaker) as db:
        gone = dji_service.apply_topology(
            db, empty, at=t0 + timedelta(seconds=5), settings=settings
        )
        assert gone.offline_aircraft == (aircraft,)
    with session_scope(app.state.sessionmaker) as db:
        offline = dji_service.record_presence(
            db, {}, now=datetime.now(UTC) + timedelta(hours=1), offline_after_s=60
        )
        assert sn in offline
        row = db.scalar(select(DjiAircraft).where(DjiAircraft.sn == aircraft))
        assert row is not None
        assert row.online is False


def test_a_gateway_cannot_publish_on_another_gateways_topics(
    template_db: Any, database_url: str, tmp_path: Path, settings: Settings
) -> None:
    """A private Mosquitto with the generated password file and ACL; the app's own bridge
    connects to it with the login from ``WATERGUARD_MQTT_URL``."""
    port = free_port()
    bridge_password = "bridge-" + unique_sn("")
    settings = settings.model_copy(
        update={
            "mqtt_url": f"mqtt://bridge:{bridge_password}@127.0.0.1:{port}",
            "mqtt_client_id": unique_sn("bridge-"),
            "mqtt_reconnect_s": 0.2,
        }
    )
    application = create_app(settings)
    try:
        with TestClient(application) as client:
            with application.state.sessionmaker() as db:
                from tests.factories import load_world

                world = load_world(db)
            auth = Auth(world)
            a = register(client, auth, world)
            b = register(client, auth, world)
            assert settings.dji_broker_dir is not None
            conf = (
                "user root\nallow_anonymous false\n"
                f"password_file {settings.dji_broker_dir / broker.PASSWD_FILE}\n"
                f"acl_file {settings.dji_broker_dir / broker.ACL_FILE}\n"
            )
            with mosquitto(tmp_path, extra_conf=conf, lifetime_s=90, port=port):
                run(_acl_scenario(port, a, b, application), timeout_s=60)
                # The bridge writes topology in arrival order: once A's own (sent second)
                # is stored, the forged one for B would have been too.
                deadline = time.monotonic() + 10
                while not _online(client, auth, a) and time.monotonic() < deadline:
                    time.sleep(0.1)
                assert _online(client, auth, a)
                assert not _online(client, auth, b)  # A's forged topology never reached it
    finally:
        application.state.engine.dispose()


def _online(client: TestClient, auth: Auth, created: dict[str, Any]) -> bool:
    shown = client.get(f"/dji/gateways/{created['gateway']['id']}", headers=auth.role("admin"))
    assert shown.status_code == 200
    return bool(shown.json()["online"])


async def _acl_scenario(port: int, a: dict[str, Any], b: dict[str, Any], app: FastAPI) -> None:
    bridge = app.state.dji_bridge  # runs on the TestClient's event loop, not this one
    async with asyncio.timeout(20):
        while not bridge.connected.is_set():
            await asyncio.sleep(0.05)
    a_sn, b_sn = a["gateway"]["sn"], b["gateway"]["sn"]

    def login(created: dict[str, Any], password: str | None = None) -> aiomqtt.Client:
        address = BrokerAddress(
            "127.0.0.1", port, False, created["mqtt_username"], password or created["mqtt_password"]
        )
        return address.client(identifier=unique_sn("gw-"))

    with pytest.raises(aiomqtt.MqttError):
        async with login(a, "wrong-password"):
            pass
    async with login(a) as gateway_a:
        await gateway_a.subscribe(topic(a_sn, Channel.status_reply), qos=1)
        await gateway_a.subscribe(topic(b_sn, Channel.status_reply), qos=1)  # not allowed: read
        topo = {"domain": 3, "type": 3, "sub_type": 0, "sub_devices": []}
        forged = request("update_topo", topo, gateway=b_sn)
        await gateway_a.publish(topic(b_sn, Channel.status), forged.to_json(), qos=1)
        own = request("update_topo", topo, gateway=a_sn)
        await gateway_a.publish(topic(a_sn, Channel.status), own.to_json(), qos=1)
        got: list[str] = []
        async with asyncio.timeout(10):
            async for message in gateway_a.messages:
                got.append(message.topic.value)
                if message.topic.value == topic(a_sn, Channel.status_reply):
                    break
        assert topic(b_sn, Channel.status_reply) not in got


def test_the_cli_writes_the_broker_files_again(
    client: TestClient,
    auth: Auth,
    world: World,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from app.cli import cli
    from app.config import get_settings

    created = register(client, auth, world)
    out = tmp_path / "rewritten"
    monkeypatch.setenv("WATERGUARD_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("WATERGUARD_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("WATERGUARD_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("WATERGUARD_MQTT_URL", "mqtt://bridge:bridge-pw@127.0.0.1:1883")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["dji-broker-files", "--out", str(out)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    passwd = (out / broker.PASSWD_FILE).read_text()
    users = dict(line.split(":", 1) for line in passwd.splitlines())
    assert broker.verify_mosquitto_hash("bridge-pw", users["bridge"])
    assert broker.verify_mosquitto_hash(created["mqtt_password"], users[created["mqtt_username"]])
    assert "user bridge\n" in (out / broker.ACL_FILE).read_text()
