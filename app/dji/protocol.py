"""DJI Cloud API messages as typed values: topics, the envelope, method names, enums and
model keys (``../shared/reference/dji-cloud-api.md``, Cloud API v1.16.1).

Pure: no I/O, no settings. The bridge (``app.dji.bridge``) parses what arrives with
:func:`parse_topic` and :func:`parse_envelope` and builds what it sends with the helpers here.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

__all__ = [
    "Channel",
    "DeviceDomain",
    "Envelope",
    "Method",
    "ModelKey",
    "ProtocolError",
    "new_id",
    "parse_envelope",
    "parse_topic",
    "topic",
]


class ProtocolError(ValueError):
    """A message that is not a Cloud API message (bad topic, not a JSON object...)."""


class Channel(StrEnum):
    """The last part of a topic; the direction is in the comment (device = gateway)."""

    osd = "osd"  # device -> cloud, periodic properties (0.5 Hz), per device SN
    state = "state"  # device -> cloud, properties on change, per device SN
    services = "services"  # cloud -> gateway
    services_reply = "services_reply"  # gateway -> cloud
    events = "events"  # gateway -> cloud
    events_reply = "events_reply"  # cloud -> gateway
    requests = "requests"  # gateway -> cloud
    requests_reply = "requests_reply"  # cloud -> gateway
    status = "status"  # gateway -> cloud (sys/...), update_topo
    status_reply = "status_reply"  # cloud -> gateway (sys/...)
    property_set = "property/set"  # cloud -> gateway
    property_set_reply = "property/set_reply"  # gateway -> cloud
    drc_up = "drc/up"  # gateway -> cloud, live flight control (no tid/bid)
    drc_down = "drc/down"  # cloud -> gateway


#: What a gateway may publish on (its own SN, or its aircraft's for osd/state).
DEVICE_PUBLISHES = (
    Channel.osd,
    Channel.state,
    Channel.services_reply,
    Channel.events,
    Channel.requests,
    Channel.status,
    Channel.property_set_reply,
    Channel.drc_up,
)
#: What a gateway may subscribe to (only under its own SN).
DEVICE_RECEIVES = (
    Channel.services,
    Channel.events_reply,
    Channel.requests_reply,
    Channel.status_reply,
    Channel.property_set,
    Channel.drc_down,
)
_SYS = frozenset({Channel.status, Channel.status_reply})


def topic(sn: str, channel: Channel) -> str:
    """The topic of ``channel`` for device ``sn``.

    >>> topic("7CTDM1", Channel.status)
    'sys/product/7CTDM1/status'
    >>> topic("7CTDM1", Channel.property_set)
    'thing/product/7CTDM1/property/set'
    """
    root = "sys" if channel in _SYS else "thing"
    return f"{root}/product/{sn}/{channel.value}"


def parse_topic(name: str) -> tuple[str, Channel]:
    """The device SN and channel of a topic; ProtocolError for anything else.

    >>> parse_topic("thing/product/1581F5BK/osd")
    ('1581F5BK', <Channel.osd: 'osd'>)
    """
    parts = name.split("/")
    if len(parts) < 4 or parts[1] != "product" or not parts[2]:
        raise ProtocolError(f"not a Cloud API topic: {name!r}")
    try:
        channel = Channel("/".join(parts[3:]))
    except ValueError as exc:
        raise ProtocolError(f"unknown channel in topic {name!r}") from exc
    expected_root = "sys" if channel in _SYS else "thing"
    if parts[0] != expected_root:
        raise ProtocolError(f"{channel} belongs under {expected_root}/, not {name!r}")
    return parts[2], channel


class Method(StrEnum):
    """The method names this slice uses (more follow with the flight slices)."""

    update_topo = "update_topo"
    config = "config"
    airport_bind_status = "airport_bind_status"
    airport_organization_get = "airport_organization_get"
    airport_organization_bind = "airport_organization_bind"
    flighttask_resource_get = "flighttask_resource_get"
    storage_config_get = "storage_config_get"
    flighttask_progress = "flighttask_progress"
    hms = "hms"
    return_home = "return_home"
    flighttask_pause = "flighttask_pause"
    flighttask_recovery = "flighttask_recovery"


class DeviceDomain(IntEnum):
    aircraft = 0
    payload = 1
    remote_controller = 2
    dock = 3


class DockModeCode(IntEnum):
    idle = 0
    on_site_debug = 1
    remote_debug = 2
    firmware_upgrading = 3
    working = 4
    awaiting_calibration = 5


class AircraftModeCode(IntEnum):
    standby = 0
    takeoff_prep = 1
    takeoff_prep_done = 2
    manual = 3
    auto_takeoff = 4
    wayline = 5
    panorama = 6
    smart_track = 7
    adsb_avoidance = 8
    auto_rth = 9
    auto_landing = 10
    forced_landing = 11
    three_propeller_landing = 12
    upgrading = 13
    not_connected = 14
    apas = 15
    virtual_stick = 16
    live_flight_control = 17
    in_air_rtk_convergence = 18
    dock_site_survey = 19
    poi = 20
    arrival_departure_route = 21


class Rainfall(IntEnum):
    none = 0
    light = 1
    moderate = 2
    heavy = 3


class ModelKey(StrEnum):
    """``"{domain}-{type}-{sub_type}"`` of the devices on the fact sheet."""

    dock = "3-1-0"
    dock2 = "3-2-0"
    dock3 = "3-3-0"
    m30 = "0-67-0"
    m30t = "0-67-1"
    m3d = "0-91-0"
    m3td = "0-91-1"
    m4d = "0-100-0"
    m4td = "0-100-1"
    m4e = "0-99-0"
    m4t = "0-99-1"
    m350 = "0-89-0"
    m300 = "0-60-0"
    m400 = "0-103-0"
    rc_plus = "2-119-0"
    rc_plus_2 = "2-174-0"
    rc_pro = "2-144-0"


#: Gateways: the devices that hold the MQTT connection.
GATEWAY_KEYS = frozenset(
    {
        ModelKey.dock,
        ModelKey.dock2,
        ModelKey.dock3,
        ModelKey.rc_plus,
        ModelKey.rc_plus_2,
        ModelKey.rc_pro,
    }
)
#: The Waterguard planning profile (``missions.PROFILES``) of the aircraft keys it has one for.
PROFILE_OF_KEY: dict[str, str] = {
    ModelKey.m30t: "m30t",
    ModelKey.m3td: "m3td",
    ModelKey.m4t: "m4t",
}


def model_key(domain: int | str, type_: int, sub_type: int) -> str:
    """``update_topo`` types ``domain`` as int (older pages, DEMO) or string (Dock 3).

    >>> model_key("3", 3, 0)
    '3-3-0'
    """
    return f"{int(domain)}-{int(type_)}-{int(sub_type)}"


def new_id() -> str:
    return str(uuid.uuid4())


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class Envelope:
    """One non-DRC message: ``tid`` (one transaction), ``bid`` (one business flow),
    ``timestamp`` (ms since the epoch), ``method``, ``data``; ``gateway`` on device messages;
    ``need_reply`` on events."""

    tid: str
    bid: str
    timestamp: int
    method: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    gateway: str | None = None
    need_reply: int = 0

    def to_json(self) -> bytes:
        body: dict[str, Any] = {
            "tid": self.tid,
            "bid": self.bid,
            "timestamp": self.timestamp,
            "method": self.method,
            "data": self.data,
        }
        if self.gateway is not None:
            body["gateway"] = self.gateway
        if self.need_reply:
            body["need_reply"] = self.need_reply
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    def reply(self, data: dict[str, Any], *, timestamp: int | None = None) -> Envelope:
        """The answer to this message: same ``tid``, ``bid`` and ``method``."""
        return Envelope(
            tid=self.tid,
            bid=self.bid,
            timestamp=now_ms() if timestamp is None else timestamp,
            method=self.method,
            data=data,
        )


def request(
    method: str, data: dict[str, Any], *, bid: str | None = None, gateway: str | None = None
) -> Envelope:
    """A new message with a fresh ``tid`` (and ``bid`` unless one is given)."""
    return Envelope(
        tid=new_id(),
        bid=bid or new_id(),
        timestamp=now_ms(),
        method=method,
        data=data,
        gateway=gateway,
    )


def parse_envelope(payload: bytes | str) -> Envelope:
    """Parse a message tolerantly: a missing ``tid``/``bid`` becomes ``""``, the misspelt
    ``"timestamp:"`` key of some DJI examples is read too, ``need_reply`` may be a string.

    >>> parse_envelope(b'{"tid":"t","bid":"b","timestamp:":5,"method":"hms","need_reply":"1"}')
    ... # doctest: +NORMALIZE_WHITESPACE
    Envelope(tid='t', bid='b', timestamp=5, method='hms', data={}, gateway=None, need_reply=1)
    """
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ProtocolError("a Cloud API message is a JSON object")
    raw_time = body.get("timestamp", body.get("timestamp:", 0))
    data = body.get("data")
    try:
        timestamp = int(raw_time or 0)
        need_reply = int(body.get("need_reply") or 0)
    except (TypeError, ValueError) as exc:
        raise ProtocolError(f"bad timestamp or need_reply: {exc}") from exc
    gateway = body.get("gateway")
    return Envelope(
        tid=str(body.get("tid") or ""),
        bid=str(body.get("bid") or ""),
        timestamp=timestamp,
        method=str(body.get("method") or ""),
        data=data if isinstance(data, dict) else {},
        gateway=str(gateway) if gateway else None,
        need_reply=need_reply,
    )


@dataclass(frozen=True, slots=True)
class SubDevice:
    sn: str
    model_key: str
    index: str | None = None


@dataclass(frozen=True, slots=True)
class Topology:
    """An ``update_topo``: the gateway's model key and the devices attached to it (an empty
    list: the aircraft went offline)."""

    gateway_sn: str
    model_key: str
    sub_devices: tuple[SubDevice, ...]


def parse_topology(gateway_sn: str, data: dict[str, Any]) -> Topology:
    """The ``update_topo`` data of ``gateway_sn``. The RC Plus 2 page documents it without
    ``domain`` (and ``index``): a gateway without one is then a remote controller, a
    sub-device without one an aircraft.

    >>> parse_topology("D1", {"domain": "3", "type": 3, "sub_type": 0,
    ...     "sub_devices": [{"sn": "A1", "domain": 0, "type": 100, "sub_type": 1, "index": "A"}]})
    ... # doctest: +NORMALIZE_WHITESPACE
    Topology(gateway_sn='D1', model_key='3-3-0',
             sub_devices=(SubDevice(sn='A1', model_key='0-100-1', index='A'),))
    """
    try:
        key = model_key(
            data.get("domain", DeviceDomain.remote_controller), data["type"], data["sub_type"]
        )
        subs = tuple(
            SubDevice(
                sn=str(d["sn"]),
                model_key=model_key(
                    d.get("domain", DeviceDomain.aircraft), d["type"], d["sub_type"]
                ),
                index=str(d["index"]) if d.get("index") is not None else None,
            )
            for d in data.get("sub_devices") or []
            if isinstance(d, dict) and d.get("sn")
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError(f"update_topo without a valid domain/type/sub_type: {exc}") from exc
    return Topology(gateway_sn=gateway_sn, model_key=key, sub_devices=subs)


def result_of(data: dict[str, Any]) -> int:
    """``data.result`` of a reply (0 = OK); a missing or odd value counts as an error (-1)."""
    try:
        return int(data.get("result", -1))
    except (TypeError, ValueError):
        return -1


#: ``data.result`` for requests this cloud does not serve: a non-zero answer rather than
#: silence, so the device flow does not stall (DJI's codes are six digits; this one is ours).
RESULT_UNSUPPORTED = 1
