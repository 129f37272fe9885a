"""CAP 1.2 (OASIS Common Alerting Protocol) export of an incident.

A broadcast format: it carries the place, the hazard and what to do, never who was seen
(no persons, no evidence, no referral details). Area is the polygon of the water the people
are in, a circle around them, or the owning station's polygon, in CAP's ``lat,lon`` order.

One incident is a series of messages, one per state it went through (its timeline): the
first is an ``Alert``, later ones ``Update`` and the end (cleared, resolved, closed) a
``Cancel``, each with ``<references>`` to every earlier message of the series. Identifiers
and ``sent`` times come from the timeline, so every export of a revision is the same
message and the references of later ones point at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree
from shapely.geometry import Point, shape

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
SEVERITY = {"critical": "Extreme", "high": "Severe", "moderate": "Moderate", "low": "Minor"}
FINISHED = {"cleared", "resolved", "closed"}


@dataclass(frozen=True, slots=True)
class CapArea:
    description: str
    circle: tuple[float, float, float] | None = None  # lat, lon, radius_km
    polygon: list[tuple[float, float]] | None = None  # (lat, lon), closed ring


@dataclass(frozen=True, slots=True)
class Revision:
    """One message of an incident's series: the state it reports and when it was sent."""

    identifier: str
    sent: datetime
    state: str


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
    was_warned: bool = False
    msg_type: str = "Alert"
    references: tuple[Revision, ...] = ()
    expires: datetime | None = None


def cap_time(at: datetime, zone: ZoneInfo) -> str:
    """CAP date-time: seconds, numeric offset, and ``-00:00`` (never ``Z``) for UTC."""
    local = at.astimezone(zone).replace(microsecond=0)
    text = local.isoformat()
    return text[:-6] + "-00:00" if text.endswith("+00:00") else text


def series(
    prefix: str, timeline: list[tuple[str, datetime]]
) -> tuple[Revision, str, tuple[Revision, ...]]:
    """The latest message of an incident, its ``msgType`` and the earlier messages.

    ``timeline`` is the incident's states in order with the time of each change.

    Examples:
        >>> from datetime import UTC
        >>> at = datetime(2026, 7, 1, 6, 0, tzinfo=UTC)
        >>> last, kind, earlier = series("st.incident-9", [("detected", at)])
        >>> last.identifier, kind, earlier
        ('st.incident-9.1', 'Alert', ())
        >>> steps = [("detected", at), ("warned", at), ("cleared", at)]
        >>> last, kind, earlier = series("st.incident-9", steps)
        >>> last.identifier, kind, [r.identifier for r in earlier]
        ('st.incident-9.3', 'Cancel', ['st.incident-9.1', 'st.incident-9.2'])
    """
    revisions = tuple(
        Revision(f"{prefix}.{number}", sent, state)
        for number, (state, sent) in enumerate(timeline, start=1)
    )
    last = revisions[-1]
    if len(revisions) == 1:
        kind = "Alert"
    elif last.state in FINISHED:
        kind = "Cancel"
    else:
        kind = "Update"
    return last, kind, revisions[:-1]


def polygon_from_geojson(
    boundary: dict[str, Any], near: tuple[float, float] | None = None
) -> list[tuple[float, float]]:
    """The outer ring (CAP polygons have no holes) of the polygon holding ``near``
    (lon, lat) or else the largest, as closed ``(lat, lon)`` pairs."""
    geometry = shape(boundary)
    parts = list(getattr(geometry, "geoms", [geometry]))
    if near is not None and any(p.covers(Point(near)) for p in parts):
        part = next(p for p in parts if p.covers(Point(near)))
    else:
        part = max(parts, key=lambda p: p.area)
    points = [(float(lat), float(lon)) for lon, lat, *_ in part.exterior.coords]
    if points[0] != points[-1]:
        points.append(points[0])
    return points


def people_en(count: int) -> str:
    return "1 person" if count == 1 else f"{count} people"


def describe(state: str, people_count: int, *, was_warned: bool) -> tuple[str, str]:
    """The description in Chinese and English: what is known in this state, no more.

    Examples:
        >>> describe("detected", 1, was_warned=False)[1]
        'A patrol drone has seen 1 person in the water here.'
        >>> describe("warned", 3, was_warned=True)[1]
        'A patrol drone has seen 3 people in the water here; they have been told to leave.'
        >>> describe("warned", 1, was_warned=True)[0]
        '巡逻无人机在此水域发现 1 人下水，已喊话劝离。'
    """
    seen_zh = f"巡逻无人机在此水域发现 {people_count} 人下水"
    seen_en = f"A patrol drone has seen {people_en(people_count)} in the water here"
    told = "they have been" if people_count > 1 else "the person has been"
    told_en = f"; {told} told to leave" if was_warned else ""
    told_zh = "，已喊话劝离" if was_warned else ""
    if state == "detected":
        return f"{seen_zh}。", f"{seen_en}."
    if state == "warned":
        return f"{seen_zh}，已喊话劝离。", f"{seen_en}; {told} told to leave."
    if state == "escalated":
        return (
            f"{seen_zh}{told_zh}，已通知警方。",
            f"{seen_en}{told_en}; the police have been called.",
        )
    if state in {"dispatched", "acknowledged"}:
        return (
            f"{seen_zh}{told_zh}，警力正在赶往现场。",
            f"{seen_en}{told_en}; a police unit is on its way.",
        )
    if state == "on_scene":
        return (
            f"{seen_zh}{told_zh}，警力已到达现场。",
            f"{seen_en}{told_en}; a police unit is on scene.",
        )
    if state == "cleared":
        after_zh = "经劝离已" if was_warned else "已"
        after_en = " after the warning" if was_warned else ""
        return (
            f"此前在此水域下水的 {people_count} 人{after_zh}离开水域，警报解除。",
            f"The {people_en(people_count)} seen in the water here left the water"
            f"{after_en}; the alert is over.",
        )
    return (
        f"此前在此水域发现的 {people_count} 人下水警情已处置完毕，警报解除。",
        f"The police have dealt with the {people_en(people_count)} seen in the water here; "
        "the alert is over.",
    )


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
    _sub(alert, "msgType", incident.msg_type)
    _sub(alert, "scope", "Restricted")
    _sub(alert, "restriction", "Police and partner agencies only")
    if incident.references:
        _sub(
            alert,
            "references",
            " ".join(
                f"{incident.sender},{r.identifier},{cap_time(r.sent, zone)}"
                for r in incident.references
            ),
        )
    finished = incident.state in FINISHED
    description_zh, description_en = describe(
        incident.state, incident.people_count, was_warned=incident.was_warned
    )
    texts = {
        "zh-CN": (
            "危险水域：有人下水游泳",
            incident.sender_name_zh,
            description_zh,
            incident.instruction_zh,
        ),
        "en-US": (
            "Dangerous water: people swimming",
            incident.sender_name_en,
            description_en,
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
        if incident.expires is not None:
            _sub(info, "expires", cap_time(incident.expires, zone))
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


def expiry(sent: datetime, ttl_s: int) -> datetime:
    return sent + timedelta(seconds=ttl_s)
