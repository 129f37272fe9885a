from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from tests.app.conftest import Auth
from tests.app.incident.conftest import JIJIANG, Reporter

XSD = Path(__file__).parents[2] / "fixtures" / "cap" / "CAP-v1.2.xsd"
NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}


@pytest.fixture(scope="module")
def cap_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def _cap(client: TestClient, auth: Auth, incident_id: int, area: str = "circle") -> etree._Element:
    response = client.get(
        f"/incidents/{incident_id}/cap?area={area}", headers=auth.role("operator")
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/cap+xml")
    return etree.fromstring(response.content)


def test_the_export_is_valid_cap_1_2_with_a_lat_lon_circle(
    client: TestClient, auth: Auth, reporter: Reporter, cap_schema: etree.XMLSchema
) -> None:
    incident_id = reporter.incident(is_deep_water=True, people_count=3)

    document = _cap(client, auth, incident_id)

    cap_schema.assertValid(document)
    circles = document.xpath("//cap:circle/text()", namespaces=NS)
    assert circles == [f"{JIJIANG[1]:.6f},{JIJIANG[0]:.6f} 0.150"] * 2
    sent = document.xpath("string(//cap:sent)", namespaces=NS)
    assert sent.endswith("+08:00")
    assert document.xpath("//cap:info/cap:language/text()", namespaces=NS) == ["zh-CN", "en-US"]


def test_the_station_polygon_is_closed_and_in_lat_lon_order(
    client: TestClient, auth: Auth, reporter: Reporter, cap_schema: etree.XMLSchema
) -> None:
    incident_id = reporter.incident()

    document = _cap(client, auth, incident_id, area="station")

    cap_schema.assertValid(document)
    polygon = document.xpath("string(//cap:polygon)", namespaces=NS).split(" ")
    first_lat, first_lon = (float(v) for v in polygon[0].split(","))
    assert len(polygon) >= 4
    assert polygon[0] == polygon[-1]
    assert 29.0 < first_lat < 30.0  # latitude first, unlike GeoJSON
    assert 106.0 < first_lon < 107.0


def test_the_export_carries_no_personal_data(
    client: TestClient, auth: Auth, reporter: Reporter
) -> None:
    incident_id = reporter.incident(is_suspected_minor=True)

    text = etree.tostring(_cap(client, auth, incident_id), encoding="unicode")

    for leak in ("guardian", "phone", "person", "evidence", "user:"):
        assert leak not in text
