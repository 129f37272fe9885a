from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from shapely.geometry import shape

from tests.app.conftest import Auth
from tests.app.incident.conftest import JIJIANG, Reporter
from tests.factories import World

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

    for leak in ("guardian", "phone", "person_id", "persons", "evidence", "user:"):
        assert leak not in text


def _text(document: etree._Element, path: str) -> str:
    return str(document.xpath(f"string({path})", namespaces=NS))


def _english(document: etree._Element) -> str:
    return _text(document, "//cap:info[cap:language='en-US']/cap:description")


def _references(document: etree._Element) -> list[str]:
    return _text(document, "//cap:references").split()


def _triple(document: etree._Element) -> str:
    return ",".join(_text(document, f"//cap:{tag}") for tag in ("sender", "identifier", "sent"))


def test_an_incident_is_an_alert_then_updates_then_a_cancel_each_referencing_the_earlier(
    client: TestClient, auth: Auth, reporter: Reporter, cap_schema: etree.XMLSchema
) -> None:
    incident_id = reporter.incident()
    first = _cap(client, auth, incident_id)
    again = _cap(client, auth, incident_id)
    client.post(
        f"/incidents/{incident_id}/warnings",
        headers=auth.role("operator"),
        json={"modes": ["light"]},
    )
    warned = _cap(client, auth, incident_id)
    client.post(f"/incidents/{incident_id}/clear", headers=auth.role("operator"))
    cleared = _cap(client, auth, incident_id)
    client.post(f"/incidents/{incident_id}/close", headers=auth.role("station_officer"))
    closed = _cap(client, auth, incident_id)

    for document in (first, warned, cleared, closed):
        cap_schema.assertValid(document)
        assert _text(document, "//cap:info/cap:expires") > _text(document, "//cap:sent")
    assert etree.tostring(first) == etree.tostring(again)  # a revision is one message
    assert [_text(d, "//cap:msgType") for d in (first, warned, cleared, closed)] == [
        "Alert",
        "Update",
        "Cancel",
        "Cancel",
    ]
    assert _references(first) == []
    assert _references(warned) == [_triple(first)]
    assert _references(closed) == [_triple(first), _triple(warned), _triple(cleared)]
    assert len({_text(d, "//cap:identifier") for d in (first, warned, cleared, closed)}) == 4
    assert _text(cleared, "//cap:info/cap:responseType") == "AllClear"


def test_the_text_says_what_happened_so_far_with_the_right_number(
    client: TestClient, auth: Auth, reporter: Reporter
) -> None:
    alone = reporter.incident()
    group = reporter.incident(lat=29.30, people_count=3)

    before = _english(_cap(client, auth, alone))
    for incident_id in (alone, group):
        client.post(
            f"/incidents/{incident_id}/warnings",
            headers=auth.role("operator"),
            json={"modes": ["light"]},
        )
    one = _cap(client, auth, alone)
    three = _cap(client, auth, group)

    assert "1 person" in before
    assert "told to leave" not in before  # nobody was warned yet
    assert "1 person" in _english(one)
    assert "the person has been told to leave" in _english(one)
    assert "3 people" in _english(three)
    assert "they have been told to leave" in _english(three)
    assert "1 人" in _text(one, "//cap:info[cap:language='zh-CN']/cap:description")


def test_the_area_is_the_water_polygon_named_after_the_waterway(
    client: TestClient, auth: Auth, world: World, reporter: Reporter, cap_schema: etree.XMLSchema
) -> None:
    water = client.get(f"/waterways/{world.demo_waterway}", headers=auth.role("operator")).json()
    inside = shape(water["area"]).representative_point()
    incident_id = reporter.incident(lon=inside.x, lat=inside.y)

    document = _cap(client, auth, incident_id, area="water")
    circle = _cap(client, auth, incident_id, area="circle")

    cap_schema.assertValid(document)
    assert _text(document, "//cap:areaDesc") == water["name"]
    assert _text(circle, "//cap:areaDesc") == water["name"]
    polygon = _text(document, "//cap:polygon").split(" ")
    assert polygon[0] == polygon[-1]
    assert len(polygon) >= 4
    ring = [(float(p.split(",")[1]), float(p.split(",")[0])) for p in polygon]
    assert shape({"type": "Polygon", "coordinates": [ring]}).covers(inside)
