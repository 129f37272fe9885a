"""CAP 1.2 (OASIS Common Alerting Protocol) export of an incident.

A broadcast format: it carries the place, the hazard and what to do, never who was seen
(no persons, no evidence, no referral details). Area is a circle around the incident or
the owning station's polygon, both in CAP's ``lat,lon`` order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
SEVERITY = {"critical": "Extreme", "high": "Severe", "moderate": "Moderate", "low": "Minor"}
FINISHED = {"cleared", "resolved", "closed"}


@dataclass(frozen=True, slots=True)
class CapArea:
    description: str
    circle: tuple[float, float, float] | None = None  # lat, lon, radius_km
    polygon: list[tuple[float, float]] | None = None  # (lat, lon), closed ring


@dataclass(frozen=True, slots=True)
class CapIncident:
    identifier: str
    sender: str
    sender_name_zh: str
    sender_name_en: str
    sent: datetime
    state: str
    severity: str
    people_count: int
    instruction_zh: str
    instruction_en: str
    area: CapArea


def cap_time(at: datetime, zone: ZoneInfo) -> str:
    """CAP date-time: seconds, numeric offset, and ``-00:00`` (never ``Z``) for UTC."""
    local = at.astimezone(zone).replace(microsecond=0)
    text = local.isoformat()
    return text[:-6] + "-00:00" if text.endswith("+00:00") else text


def polygon_from_geojson(boundary: dict[str, Any]) -> list[tuple[float, float]]:
    rings = boundary["coordinates"]
    outer = rings[0][0] if boundary["type"] == "MultiPolygon" else rings[0]
    points = [(float(lat), float(lon)) for lon, lat, *_ in outer]
    if points[0] != points[-1]:
        points.append(points[0])
    return points


def _sub(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    element.text = text
    return element


def to_xml(incident: CapIncident, zone: ZoneInfo) -> bytes:
    alert = etree.Element(f"{{{CAP_NS}}}alert", nsmap={None: CAP_NS})
    _sub(alert, "identifier", incident.identifier)
    _sub(alert, "sender", incident.sender)
    _sub(alert, "sent", cap_time(incident.sent, zone))
    _sub(alert, "status", "Actual")
    _sub(alert, "msgType", "Alert")
    _sub(alert, "scope", "Restricted")
    _sub(alert, "restriction", "Police and partner agencies only")
    finished = incident.state in FINISHED
    texts = {
        "zh-CN": (
            "危险水域：有人下水游泳",
            incident.sender_name_zh,
            f"无人机在此水域发现 {incident.people_count} 人下水，已开展劝离。",
            incident.instruction_zh,
        ),
        "en-US": (
            "Dangerous water: people swimming",
            incident.sender_name_en,
            f"A patrol drone saw {incident.people_count} people in the water here; "
            "they are being told to leave.",
            incident.instruction_en,
        ),
    }
    for language, (event, sender_name, description, instruction) in texts.items():
        info = etree.SubElement(alert, f"{{{CAP_NS}}}info")
        _sub(info, "language", language)
        _sub(info, "category", "Safety")
        _sub(info, "event", event)
        _sub(info, "responseType", "AllClear" if finished else "Avoid")
        _sub(info, "urgency", "Past" if finished else "Immediate")
        _sub(info, "severity", SEVERITY.get(incident.severity, "Unknown"))
        _sub(info, "certainty", "Observed")
        _sub(info, "senderName", sender_name)
        _sub(info, "headline", event)
        _sub(info, "description", description)
        _sub(info, "instruction", instruction)
        area = etree.SubElement(info, f"{{{CAP_NS}}}area")
        _sub(area, "areaDesc", incident.area.description)
        if incident.area.polygon:
            _sub(
                area,
                "polygon",
                " ".join(f"{lat:.6f},{lon:.6f}" for lat, lon in incident.area.polygon),
            )
        if incident.area.circle:
            lat, lon, radius_km = incident.area.circle
            _sub(area, "circle", f"{lat:.6f},{lon:.6f} {radius_km:.3f}")
    return etree.tostring(alert, xml_declaration=True, encoding="UTF-8", pretty_print=True)
