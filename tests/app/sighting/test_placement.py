"""The server knows the water, not the reporter: sightings are placed on the district's
registered geometry, and the water decides the owning station."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import DeviceScope
from app.jurisdiction.models import Jurisdiction
from tests.app.conftest import Auth
from tests.app.dispatch.conftest import daytime
from tests.factories import World, make_device_token

DEEP_CHANNEL = (106.259, 29.2994)  # the demo Yangtze's main channel at Jijiang
INLAND = (106.259, 29.290)  # Jijiang town, about 700 m from the river's edge
ON_THE_BANK = (106.259, 29.2954)  # about 100 m from the edge
BEACH_SPOT = (106.2600, 29.2975)  # 50 m from the 东门滨江沙滩 hot spot, in the water
BEIJING = (116.397, 39.909)
DEGAN_DRONE_TOKEN = "wgd_degan-drone-device-token-0123456789abcdef"


def _post(
    client: TestClient, headers: dict[str, str], where: tuple[float, float], **extra: Any
) -> Any:
    body = {
        "client_id": f"place-{where[0]}-{where[1]}-{len(extra)}",
        "lon": where[0],
        "lat": where[1],
        "seen_at": datetime.now(UTC).isoformat(),
        **extra,
    }
    return client.post("/sightings", headers=headers, json=body)


def _incident_total(client: TestClient, auth: Auth) -> int:
    total: int = client.get("/incidents", headers=auth.role("command")).json()["total"]
    return total


def test_a_sighting_in_a_deep_water_zone_is_deep_water_whatever_the_client_says(
    client: TestClient, auth: Auth, world: World
) -> None:
    response = _post(client, auth.role("operator"), DEEP_CHANNEL, seen_at=daytime())

    assert response.status_code == 201, response.text
    sighting = response.json()
    assert sighting["place"] == "water"
    assert sighting["is_in_deep_zone"] is True
    assert sighting["is_deep_water"] is True
    assert sighting["waterway_id"] == world.demo_waterway
    incident = client.get(
        f"/incidents/{sighting['incident_id']}", headers=auth.role("operator")
    ).json()
    assert incident["has_deep_water"] is True
    assert incident["severity"] != "low"


def test_a_sighting_on_land_is_stored_but_opens_no_incident(client: TestClient, auth: Auth) -> None:
    before = _incident_total(client, auth)

    inland = _post(client, auth.role("operator"), INLAND)
    bank = _post(client, auth.role("operator"), ON_THE_BANK)

    assert inland.status_code == bank.status_code == 201
    assert (inland.json()["place"], inland.json()["incident_id"]) == ("land", None)
    assert (bank.json()["place"], bank.json()["incident_id"]) == ("bank", None)
    assert _incident_total(client, auth) == before
    shown = client.get("/sightings?place=land", headers=auth.role("station_officer")).json()
    assert [s["id"] for s in shown["items"]] == [inland.json()["id"]]


def test_a_sighting_near_a_hot_spot_names_it(client: TestClient, auth: Auth) -> None:
    sighting = _post(client, auth.role("operator"), BEACH_SPOT).json()

    assert sighting["place"] == "water"
    assert sighting["hot_spot"] == "东门滨江沙滩"


def test_the_owning_station_is_the_waters_not_the_drones(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    degan = session.scalar(select(Jurisdiction).where(Jurisdiction.code == "demo-degan"))
    assert degan is not None
    make_device_token(
        session,
        secret=DEGAN_DRONE_TOKEN,
        name="Degan dock drone",
        scopes=[DeviceScope.detections_write.value],
        jurisdiction=degan,
    )
    session.commit()

    response = _post(client, {"Authorization": f"Bearer {DEGAN_DRONE_TOKEN}"}, DEEP_CHANNEL)

    assert response.status_code == 201, response.text
    assert response.json()["station_id"] == world.demo_station  # Jijiang's water
    incident = client.get(
        f"/incidents/{response.json()['incident_id']}", headers=auth.role("command")
    ).json()
    assert incident["station_id"] == world.demo_station
    assert incident["waterway_id"] == world.demo_waterway


def test_a_sighting_outside_every_jurisdiction_of_the_district_is_refused(
    client: TestClient, auth: Auth
) -> None:
    before = _incident_total(client, auth)

    response = _post(client, auth.role("operator"), BEIJING)

    assert response.status_code == 422
    assert response.json()["error"] == "SightingOutsideDistrict"
    assert _incident_total(client, auth) == before
