"""``waterguard pilot-sim``: a simulated DJI Pilot 2 gateway (a remote controller and the
aircraft it flies, hand-launched) speaking the Cloud API over a real broker.

What Pilot 2 sends, per the fact sheet (``../shared/reference/dji-cloud-api.md``, sections
1-3): ``update_topo`` on ``sys/product/{rc_sn}/status`` with the remote controller as gateway
(domain 2) and the aircraft as its sub-device, an empty ``sub_devices`` once the aircraft is
switched off (DJI's RC Plus 2 page documents it without ``domain`` and ``index``:
:attr:`PilotSim.topology_has_domain` False sends that); the controller's own OSD on
``thing/product/{rc_sn}/osd`` (its position, its battery, the radio link) and the aircraft's
on ``thing/product/{aircraft_sn}/osd``, both with ``gateway`` = the controller's serial, at
the documented 0.5 Hz.

It differs from the dock simulator (:class:`app.dji.sim.DockSim`, which it reuses) in that it
asks for no ``config`` (Pilot 2 gets its licence through the JSBridge, not MQTT), its
aircraft is flown by hand (``mode_code`` 3, manual) and it takes no wayline tasks: Pilot 2
routes go as files. A service it is sent is kept in ``received`` and answered with a
non-zero ``result`` (which code a real controller returns is unconfirmed;
:data:`SIM_NOT_SUPPORTED` is ours).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.dji.protocol import Channel, ModelKey, parse_envelope, parse_topic
from app.dji.sim import DockSim

#: ``data.result`` for a service Pilot 2 does not take: the simulator's own code, in DJI's
#: six-digit form with A = 4 (Pilot 2) and module 25 (as 325, "malformed cloud command").
SIM_NOT_SUPPORTED = 425_001
#: The aircraft the simulator flies, by Waterguard model id: (aircraft key, controller key).
#: RC Plus 2 flies the M4E/M4T, RC Plus the M30/M30T and M350 (fact sheet, section 2).
AIRCRAFT: dict[str, tuple[str, str]] = {
    "m4t": (ModelKey.m4t, ModelKey.rc_plus_2),
    "m4e": (ModelKey.m4e, ModelKey.rc_plus_2),
    "m30t": (ModelKey.m30t, ModelKey.rc_plus),
    "m30": (ModelKey.m30, ModelKey.rc_plus),
    "m350": (ModelKey.m350, ModelKey.rc_plus),
}
#: The main camera's payload index of each aircraft (fact sheet, section 2); the M350
#: carries whatever gimbal is mounted, so it reports none here.
CAMERA_OF_KEY: dict[str, str] = {
    ModelKey.m4t: "89-0-0",
    ModelKey.m4e: "88-0-0",
    ModelKey.m30t: "53-0-0",
    ModelKey.m30: "52-0-0",
}
MANUAL = 3  # aircraft mode_code: flown by hand


@dataclass
class PilotSim(DockSim):
    """A Pilot 2 controller (``dock_sn`` is its serial) and its aircraft. The aircraft circles
    ``(lon, lat)``; the pilot stands at ``(rc_lon, rc_lat)``, by default the same point."""

    dock_key: str = ModelKey.rc_plus_2
    aircraft_key: str = ModelKey.m4t
    rc_lon: float | None = None
    rc_lat: float | None = None
    rc_battery_pct: int = 80
    gimbal_pitch_deg: float = -45.0
    #: False: ``update_topo`` as the RC Plus 2 page's table documents it, with no ``domain``
    #: and no ``index`` (the fact sheet and the other controllers' pages carry both).
    topology_has_domain: bool = True

    @property
    def rc_sn(self) -> str:
        return self.dock_sn

    @property
    def services(self) -> list[str]:
        """The methods of every service the controller was sent."""
        return [e.method for channel, e in self.received if channel == Channel.services.value]

    def topology_data(self) -> dict[str, Any]:
        data = super().topology_data()
        if not self.topology_has_domain:
            del data["domain"]
            for sub in data["sub_devices"]:
                del sub["domain"], sub["index"]
        return data

    def dock_osd_parts(self) -> list[dict[str, Any]]:
        """The controller's own OSD: where the pilot stands, its battery and the radio link."""
        return [
            {
                "latitude": self.lat if self.rc_lat is None else self.rc_lat,
                "longitude": self.lon if self.rc_lon is None else self.rc_lon,
                "height": 30.0,  # ellipsoid height of the bank (m)
                "capacity_percent": self.rc_battery_pct,
                "wireless_link": {
                    "dongle_number": 0,
                    "4g_link_state": 0,
                    "sdr_link_state": int(self.aircraft_online),
                    "link_workmode": 0,
                    "sdr_quality": 5 if self.aircraft_online else 0,
                    "4g_quality": 0,
                    "4g_uav_quality": 0,
                    "4g_gnd_quality": 0,
                    "sdr_freq_band": 2.4,
                    "4g_freq_band": 0.0,
                },
            }
        ]

    def aircraft_osd(self, t_s: float) -> dict[str, Any]:
        """Flown by hand (manual mode), with the main camera's gimbal struct."""
        osd = super().aircraft_osd(t_s) | {"mode_code": MANUAL}
        camera = CAMERA_OF_KEY.get(self.aircraft_key)
        if camera is not None:
            osd[camera] = {
                "payload_index": camera,
                "gimbal_pitch": self.gimbal_pitch_deg,
                "gimbal_roll": 0.0,
                "gimbal_yaw": float(osd["attitude_head"]),
                "zoom_factor": 2.0,
            }
        return osd

    async def ask_config(self) -> None:
        """Pilot 2 asks for no ``config``: its app licence comes through the JSBridge."""

    async def aircraft_off(self) -> None:
        """The aircraft is switched off: the controller reports an empty ``sub_devices`` and
        goes on sending its own OSD."""
        self.aircraft_online = False
        await self.announce()

    async def _on_message(self, name: str, payload: bytes) -> None:
        _, channel = parse_topic(name)
        if channel is not Channel.services:
            await super()._on_message(name, payload)
            return
        envelope = parse_envelope(payload)
        self.received.append((channel.value, envelope))
        if self.sending:
            await self._publish(
                self.dock_sn,
                Channel.services_reply,
                envelope.reply({"result": SIM_NOT_SUPPORTED, "output": {}}),
            )
