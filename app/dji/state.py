"""Device state from partial OSD/state messages, merged per serial number; what the bridge
has seen (presence, events already handled). Pure: values in, values out, no I/O.

OSD is incremental (the dock's arrives as three messages with different keys), and MQTT
may deliver late: a key keeps the value of the newest message that carried it, so a late
message never overwrites a newer value and merging the same message twice changes nothing.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["DeviceState", "EventLog", "OsdFix", "Presence", "StateBook", "osd_fix"]


@dataclass(slots=True)
class DeviceState:
    """The merged properties of one device and, per key, the time of the message it came from."""

    sn: str
    values: dict[str, Any] = field(default_factory=dict)
    stamped_ms: dict[str, int] = field(default_factory=dict)
    last_ms: int = 0

    def merge(self, data: dict[str, Any], timestamp_ms: int) -> list[str]:
        """Merge one message; returns the keys it changed."""
        changed: list[str] = []
        for key, value in data.items():
            if self.stamped_ms.get(key, -1) > timestamp_ms:
                continue  # a newer message already set this key
            if isinstance(value, dict) and isinstance(self.values.get(key), dict):
                value = {**self.values[key], **value}
            if self.values.get(key) != value:
                changed.append(key)
            self.values[key] = value
            self.stamped_ms[key] = timestamp_ms
        self.last_ms = max(self.last_ms, timestamp_ms)
        return changed


class StateBook:
    """The merged state of every device, by serial number."""

    def __init__(self) -> None:
        self._devices: dict[str, DeviceState] = {}

    def merge(self, sn: str, data: dict[str, Any], timestamp_ms: int) -> DeviceState:
        device = self._devices.get(sn)
        if device is None:
            device = self._devices[sn] = DeviceState(sn)
        device.merge(data, timestamp_ms)
        return device

    def get(self, sn: str) -> DeviceState | None:
        return self._devices.get(sn)

    def forget(self, sn: str) -> None:
        self._devices.pop(sn, None)


@dataclass(frozen=True, slots=True)
class OsdFix:
    """An aircraft position as Waterguard's telemetry takes it (units in the names).

    ``alt_m`` is DJI's ``elevation`` (above take-off); DJI's ``height`` is above the WGS-84
    ellipsoid, not above sea level, so it is not passed as ``amsl_m``."""

    at: datetime
    lon: float
    lat: float
    alt_m: float | None
    heading_deg: float | None
    speed_mps: float | None
    battery_pct: float | None
    gimbal_pitch_deg: float | None = None
    gimbal_yaw_deg: float | None = None
    gimbal_roll_deg: float | None = None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _gimbal(values: dict[str, Any]) -> dict[str, Any]:
    """The main gimbal's struct: keyed by a payload index ``"{type}-{subtype}-0"``."""
    cameras = values.get("cameras")
    indexes = [
        str(c.get("payload_index"))
        for c in cameras or []
        if isinstance(c, dict) and c.get("payload_index")
    ]
    indexes += [k for k in values if k.count("-") == 2 and k.endswith("-0")]
    for index in indexes:
        struct = values.get(index)
        if isinstance(struct, dict):
            return struct
    return {}


def osd_fix(device: DeviceState) -> OsdFix | None:
    """The aircraft's position at its newest message, or None without a GPS fix (DJI sends
    0/0 before the aircraft has one)."""
    values = device.values
    lon, lat = _number(values.get("longitude")), _number(values.get("latitude"))
    if lon is None or lat is None or (lon == 0 and lat == 0):
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    battery = values.get("battery")
    battery_pct = _number(battery.get("capacity_percent")) if isinstance(battery, dict) else None
    heading = _number(values.get("attitude_head"))
    gimbal = _gimbal(values)
    return OsdFix(
        at=datetime.fromtimestamp(device.last_ms / 1000, tz=UTC),
        lon=lon,
        lat=lat,
        alt_m=_number(values.get("elevation")),
        heading_deg=heading,
        speed_mps=_number(values.get("horizontal_speed")),
        battery_pct=battery_pct,
        gimbal_pitch_deg=_number(gimbal.get("gimbal_pitch")),
        gimbal_yaw_deg=_number(gimbal.get("gimbal_yaw")),
        gimbal_roll_deg=_number(gimbal.get("gimbal_roll")),
    )


class EventLog:
    """Events already handled, by (gateway, tid, bid, method): a redelivered event (QoS 1,
    or the device resending because our reply was lost) is answered again but acted on once.
    Bounded: the oldest keys are forgotten first."""

    def __init__(self, size: int = 10_000) -> None:
        self._seen: OrderedDict[tuple[str, str, str, str], None] = OrderedDict()
        self._size = size

    def first_time(self, gateway: str, tid: str, bid: str, method: str) -> bool:
        key = (gateway, tid, bid, method)
        if key in self._seen:
            self._seen.move_to_end(key)
            return False
        self._seen[key] = None
        while len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return True


class Presence:
    """When each serial number was last heard from (wall clock, not the device's)."""

    def __init__(self) -> None:
        self._seen: dict[str, datetime] = {}

    def heard(self, sn: str, at: datetime) -> None:
        self._seen[sn] = at

    def take(self) -> dict[str, datetime]:
        """What was heard since the last call (the bridge writes it down periodically)."""
        seen, self._seen = self._seen, {}
        return seen
