"""``waterguard`` commands of the DJI Cloud API bridge: the broker's login files and the
simulated dock and Pilot 2 controller (``dock-sim``, ``pilot-sim``).

A composition root: ``dock-sim`` hands the simulated dock its clip writer, the vision
adapter of its stand-in media server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli_common import console, fail, settings_or_exit, unit_of_work
from app.config import get_settings

if TYPE_CHECKING:
    from app.dji.mqtt import BrokerAddress
    from app.dji.sim import DockSim

dji_cli = typer.Typer(no_args_is_help=True)


@dji_cli.command("dji-broker-files")
def dji_broker_files(
    out: Annotated[
        Path | None,
        typer.Option(help="Directory to write to (default: WATERGUARD_DJI_BROKER_DIR)."),
    ] = None,
) -> None:
    """Write the Mosquitto password file and ACL of the registered DJI gateways again."""
    from app.dji import service as dji_service

    settings = settings_or_exit()
    directory = out or settings.dji_broker_dir
    if directory is None:
        raise fail("pass --out or set WATERGUARD_DJI_BROKER_DIR", 2)
    with unit_of_work(settings, "cli:dji-broker-files") as session:
        count = dji_service.write_broker_files(
            session, settings.model_copy(update={"dji_broker_dir": directory})
        )
    console.print(f"{count} gateway logins written to {directory}; reload the broker (SIGHUP)")


def _broker_address(url: str) -> BrokerAddress:
    """``--broker``, else ``WATERGUARD_MQTT_URL``; exits 2 when it is no MQTT URL."""
    from app.dji.mqtt import BrokerAddress

    try:
        return BrokerAddress.parse(url or get_settings().mqtt_url)
    except ValueError as exc:
        raise fail(f"{exc}; pass --broker or set WATERGUARD_MQTT_URL", 2) from exc


def _drive_sim(
    sim: DockSim, *, duration_s: float, step: Callable[[float], Awaitable[None]]
) -> None:
    """Run a simulator until ``duration_s`` has passed (0: until Ctrl-C), calling ``step``
    with the seconds elapsed every 0.2 s; exits 1 when the broker cannot be reached."""
    import asyncio

    import aiomqtt

    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(sim.run(stop))
        started = asyncio.get_running_loop().time()
        while not task.done():
            await asyncio.sleep(0.2)
            elapsed = asyncio.get_running_loop().time() - started
            await step(elapsed)
            if duration_s and elapsed >= duration_s:
                stop.set()
        await task

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    except (OSError, aiomqtt.MqttError) as exc:
        raise fail(f"cannot reach the broker: {exc}") from exc


@dji_cli.command("dock-sim")
def dock_sim(
    broker: Annotated[
        str,
        typer.Option(help="mqtt://[user:pass@]host:port (default: WATERGUARD_MQTT_URL)."),
    ] = "",
    dock_sn: Annotated[str, typer.Option(help="The dock's serial number.")] = "SIMDOCK0001",
    aircraft_sn: Annotated[str, typer.Option(help="The aircraft's serial number.")] = "SIMAC0001",
    lon: Annotated[float, typer.Option(help="Dock longitude.", min=-180, max=180)] = 114.3055,
    lat: Annotated[float, typer.Option(help="Dock latitude.", min=-90, max=90)] = 30.5928,
    osd_hz: Annotated[
        float, typer.Option(help="OSD messages per second (documented: 0.5).", min=0.01, max=50)
    ] = 0.5,
    offline_after_s: Annotated[
        float,
        typer.Option(help="Take the aircraft offline (empty topology) after this long; 0: never."),
    ] = 0.0,
    duration_s: Annotated[float, typer.Option(help="Stop after this long; 0: Ctrl-C.")] = 0.0,
    time_scale: Annotated[
        float, typer.Option(help="Fly wayline tasks this many times faster.", min=0.1, max=1000)
    ] = 1.0,
    wind_mps: Annotated[float, typer.Option(help="Wind at the dock (m/s).", min=0)] = 3.2,
    rainfall: Annotated[
        int, typer.Option(help="Rain at the dock: 0 none .. 3 heavy.", min=0, max=3)
    ] = 0,
    battery_pct: Annotated[float, typer.Option(help="Aircraft charge (%).", min=0, max=100)] = 100,
    hms_after_s: Annotated[
        float, typer.Option(help="Send an HMS event (one dock alarm) after this long; 0: never.")
    ] = 0.0,
    media_port: Annotated[
        int,
        typer.Option(
            help="Port of the stand-in media server serving pushed live video on 127.0.0.1 "
            "(/live/<stream>.mp4); 0: any free port.",
            min=0,
            max=65_535,
        ),
    ] = 0,
) -> None:
    """Simulate a DJI dock and its aircraft on an MQTT broker (Cloud API): it flies the
    wayline tasks it is sent (downloading and checking their KMZ), pushes live video to a
    stand-in media server, plays TTS warnings on its speaker (progress events) and works a
    searchlight on the DRC channel."""
    from app.dji.sim_field import FieldDockSim
    from detection.synth_render import write_patrol_clip

    address = _broker_address(broker)
    sim = FieldDockSim(
        address,
        dock_sn,
        aircraft_sn,
        lon=lon,
        lat=lat,
        osd_hz=osd_hz,
        time_scale=time_scale,
        wind_mps=wind_mps,
        rainfall=rainfall,
        battery_pct=battery_pct,
        media_port=media_port,
        clip_writer=write_patrol_clip,
    )

    done: set[str] = set()

    async def step(elapsed: float) -> None:
        if hms_after_s and "hms" not in done and elapsed >= hms_after_s:
            done.add("hms")
            await sim.send_hms()
            console.print("HMS event sent")
        if offline_after_s and "offline" not in done and elapsed >= offline_after_s:
            done.add("offline")
            await sim.go_offline()
            console.print("aircraft offline (empty sub_devices); dock silent")

    console.print(f"dock-sim {dock_sn} + {aircraft_sn} on {address.host}:{address.port}")
    _drive_sim(sim, duration_s=duration_s, step=step)
    console.print(f"OSD sent: {sim.sent_osd}; config reply: {sim.config_output or 'none'}")


@dji_cli.command("pilot-sim")
def pilot_sim(
    broker: Annotated[
        str,
        typer.Option(help="mqtt://[user:pass@]host:port (default: WATERGUARD_MQTT_URL)."),
    ] = "",
    rc_sn: Annotated[str, typer.Option(help="The controller's serial number.")] = "SIMRC0001",
    aircraft_sn: Annotated[str, typer.Option(help="The aircraft's serial number.")] = "SIMPAC0001",
    aircraft: Annotated[
        str,
        typer.Option(
            help="Aircraft model: m4t or m4e (on an RC Plus 2), m30t, m30 or m350 (RC Plus)."
        ),
    ] = "m4t",
    lon: Annotated[float, typer.Option(help="Where it flies.", min=-180, max=180)] = 114.3055,
    lat: Annotated[float, typer.Option(help="Where it flies.", min=-90, max=90)] = 30.5928,
    osd_hz: Annotated[
        float, typer.Option(help="OSD messages per second (documented: 0.5).", min=0.01, max=50)
    ] = 0.5,
    aircraft_off_after_s: Annotated[
        float,
        typer.Option(help="Switch the aircraft off (empty topology) after this long; 0: never."),
    ] = 0.0,
    offline_after_s: Annotated[
        float, typer.Option(help="The controller falls silent after this long; 0: never.")
    ] = 0.0,
    duration_s: Annotated[float, typer.Option(help="Stop after this long; 0: Ctrl-C.")] = 0.0,
) -> None:
    """Simulate a DJI Pilot 2 controller flying a hand-launched aircraft (Cloud API): its
    topology, its own OSD and the aircraft's; it takes no flight tasks (routes go as files)."""
    from app.dji.sim_pilot import AIRCRAFT, PilotSim

    if aircraft not in AIRCRAFT:
        raise fail(f"--aircraft must be one of {', '.join(AIRCRAFT)}", 2)
    address = _broker_address(broker)
    aircraft_key, rc_key = AIRCRAFT[aircraft]
    sim = PilotSim(
        address,
        rc_sn,
        aircraft_sn,
        dock_key=rc_key,
        aircraft_key=aircraft_key,
        lon=lon,
        lat=lat,
        osd_hz=osd_hz,
    )

    async def step(elapsed: float) -> None:
        if aircraft_off_after_s and sim.aircraft_online and elapsed >= aircraft_off_after_s:
            await sim.aircraft_off()
            console.print("aircraft switched off (empty sub_devices)")
        if offline_after_s and sim.sending and elapsed >= offline_after_s:
            sim.sending = False
            console.print("controller silent")

    console.print(f"pilot-sim {rc_sn} ({rc_key}) + {aircraft_sn} ({aircraft_key})")
    _drive_sim(sim, duration_s=duration_s, step=step)
    answered = "yes" if sim.topology_answered.is_set() else "no"
    console.print(
        f"OSD sent: {sim.sent_osd}; topology answered: {answered}; "
        f"services refused: {', '.join(sim.services) or 'none'}"
    )
