"""`make run`'s dock patrols: DJI Dock 3 docks that fly their patrols through the DJI Cloud
API bridge, as a district's docks would.

``waterguard serve --demo-docks`` starts the demo's private MQTT broker (``app.demo_broker``)
unless ``WATERGUARD_MQTT_URL`` names one, points the server's DJI settings at it and at a
stand-in media server, and then:

- seeds, once, two Dock 3 gateways with their M4TD aircraft registered as drones of the demo
  district and a hot-spot patrol mission for each, through the services the API uses;
- runs a simulated dock (``app.dji.sim_field``) for each on that broker, in this process:
  it answers the bridge, flies the wayline tasks it is sent (downloading the KMZ from the
  signed link), sends OSD and ``flighttask_progress``, pushes live video to the media server,
  and charges its aircraft between flights;
- keeps one sortie booked ahead for each dock (``sortie_service.book``, as an operator would),
  the first ``LEAD_IN_S`` after the start, then every ``EVERY_S`` once the aircraft is back
  and turned round. The bridge's flight runner does the rest: ``flighttask_prepare`` when
  the sortie is due, ``flighttask_execute`` at its start; the sortie goes preflight,
  airborne (OSD stored as its telemetry) and landed on the dock's progress events.

Nothing here moves a sortie itself. A flight that a previous run left in the air is reported
``failed`` by its dock when it comes back (as a rebooted dock reports a task it lost).

This module is a composition root: it builds the simulated docks and the broker (the CLI
hands it the clip writer, the vision adapter of the media server).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiomqtt
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import app.models  # noqa: F401  (every table, for the ORM's foreign keys)
from app import demo_broker
from app.audit import service as audit_service
from app.auth.deps import user_principal
from app.auth.models import User
from app.auth.principal import Principal
from app.config import Settings, get_settings
from app.db import make_engine, make_sessionmaker, session_scope, utcnow
from app.dji import service as dji_service
from app.dji.flight import FLYING
from app.dji.flight_repository import FlightRepository
from app.dji.mqtt import BrokerAddress
from app.dji.protocol import ModelKey, new_id
from app.dji.repository import DjiRepository
from app.dji.schemas import GatewayCreate
from app.dji.sim_field import FieldDockSim
from app.dji.sim_flight import Download, http_download
from app.dji.sim_live import ClipWriter, MediaServer
from app.drone import service as drone_service
from app.drone.models import Drone
from app.drone.schemas import DroneCreate
from app.errors import AppError
from app.jurisdiction.repository import JurisdictionRepository
from app.mission import service as mission_service
from app.mission.models import Mission
from app.mission.schemas import PlanningLimitsIn, PlanRequest
from app.sortie import service as sortie_service
from app.sortie.models import Sortie, SortieStatus
from app.sortie.schemas import SortieCreate
from app.waterway.models import Waterway

log = logging.getLogger("waterguard.demo.docks")

LEAD_IN_S = 40.0  # the first sortie starts this long after the docks are up
EVERY_S = 600.0  # a dock's sorties start at least this far apart (and after its turnaround)
STAGGER_S = 120.0  # two docks never start within this of each other
PREPARE_LEAD_S = 20  # flighttask_prepare this long before a sortie's start (the demo's)
# A drone's rest between two sorties in the demo server (the default, 15 min, is a battery
# swap by hand): a dock charges while the next sortie waits, and a restarted `make run` finds
# a dock free again within minutes. Sorties of the simulated day are 40 min apart.
TURNAROUND_S = 300
BOOK_EVERY_S = 5.0  # how often the booking pass runs
BOOK_RETRY_S = 60.0  # after a refused booking
CHARGE_PCT_PER_MIN = 3.0  # a Dock 3 charges its aircraft 20 -> 90 % in about 32 min
MEDIA_PORT = 18831  # the stand-in media server (a free port when taken)
DRONE_MODEL = "m4t"  # the planner's profile of the M4TD (same airframe and cameras)
#: ``data.result`` of a task the dock lost (the simulator's own, in DJI's flight-task range).
SIM_TASK_LOST = 314010


class DemoNotSeeded(RuntimeError):
    """The demo district is missing: ``waterguard seed-demo`` first."""


@dataclass(frozen=True, slots=True)
class DemoDock:
    """One dock of the demo: where it stands (a launch point of a demo water) and what it flies."""

    dock_sn: str
    aircraft_sn: str
    name: str
    drone_name: str
    station_code: str
    waterway_name: str
    launch_point: str
    mission_name: str


DEMO_DOCKS = (
    DemoDock(
        dock_sn="DEMODOCK3DG01",
        aircraft_sn="DEMOM4TDDG01",
        name="德感水库机场 Degan reservoir dock",
        drone_name="德感水库机场 M4TD",
        station_code="demo-degan",
        waterway_name="德感水库 Degan reservoir",
        launch_point="坝顶",
        mission_name="机场自动巡查 德感水库 dock patrol",
    ),
    DemoDock(
        dock_sn="DEMODOCK3JJ01",
        aircraft_sn="DEMOM4TDJJ01",
        name="几江滨江机场 Jijiang riverside dock",
        drone_name="几江滨江机场 M4TD",
        station_code="demo-jijiang",
        waterway_name="长江几江段 Yangtze at Jijiang",
        launch_point="滨江公园起降点",
        mission_name="机场自动巡查 几江 dock patrol",
    ),
)


# --- seeding (once, through the services) ---------------------------------------------------


def _principal(session: Session, username: str) -> Principal:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise DemoNotSeeded(f"demo user {username!r} is missing: run `waterguard seed-demo`")
    return user_principal(session, user)


def _waterway(session: Session, dock: DemoDock) -> Waterway:
    waterway = session.scalar(select(Waterway).where(Waterway.name == dock.waterway_name))
    if waterway is None:
        raise DemoNotSeeded(f"demo water {dock.waterway_name!r} is missing: run seed-demo")
    return waterway


def _drone(session: Session, dock: DemoDock) -> Drone | None:
    return session.scalar(select(Drone).where(Drone.serial == dock.aircraft_sn))


def _mission(session: Session, dock: DemoDock, waterway: Waterway) -> Mission | None:
    return session.scalar(
        select(Mission).where(Mission.waterway_id == waterway.id, Mission.name == dock.mission_name)
    )


def seed_docks(
    session: Session, settings: Settings, *, now: datetime, docks: tuple[DemoDock, ...] = DEMO_DOCKS
) -> list[str]:
    """Register what is missing of ``docks`` (drone, gateway, mission); what was created."""
    admin, operator = _principal(session, "admin"), _principal(session, "operator")
    created: list[str] = []
    for dock in docks:
        station = JurisdictionRepository(session).get_by_code(dock.station_code)
        if station is None:
            raise DemoNotSeeded(f"demo station {dock.station_code!r} is missing: run seed-demo")
        waterway = _waterway(session, dock)
        if _drone(session, dock) is None:
            drone_service.create(
                session,
                admin,
                DroneCreate(
                    serial=dock.aircraft_sn,
                    name=dock.drone_name,
                    model_id=DRONE_MODEL,
                    station_id=station.id,
                ),
            )
            created.append(dock.drone_name)
        if DjiRepository(session).gateway_by_sn(dock.dock_sn) is None:
            # The password is not kept: the demo broker lets loopback clients in anonymously.
            dji_service.create(
                session,
                admin,
                GatewayCreate(
                    sn=dock.dock_sn,
                    name=dock.name,
                    model_key=ModelKey.dock3,
                    station_id=station.id,
                    aircraft_sns=[dock.aircraft_sn],
                ),
                settings=settings,
                now=now,
            )
            created.append(dock.name)
        if _mission(session, dock, waterway) is None:
            mission_service.create(
                session,
                operator,
                PlanRequest(
                    waterway_id=waterway.id,
                    drone_model_id=DRONE_MODEL,
                    pattern="hotspots",  # type: ignore[arg-type]
                    name=dock.mission_name,
                    launch_point=dock.launch_point,
                    limits=PlanningLimitsIn(altitude_m=60.0, hover_s=20.0),
                ),
                settings=settings,
            )
            created.append(dock.mission_name)
    session.flush()
    return created


def dock_position(session: Session, dock: DemoDock) -> tuple[float, float]:
    """Where the dock stands: its launch point (lon, lat)."""
    for point in _waterway(session, dock).launch_points:
        if point["name"] == dock.launch_point:
            return float(point["lon"]), float(point["lat"])
    raise DemoNotSeeded(f"{dock.waterway_name!r} has no launch point {dock.launch_point!r}")


# --- booking (one sortie ahead per dock) ----------------------------------------------------


def _latest_sortie(session: Session, drone: Drone) -> Sortie | None:
    return session.scalar(
        select(Sortie)
        .where(Sortie.drone_id == drone.id)
        .order_by(Sortie.planned_start.desc(), Sortie.id.desc())
        .limit(1)
    )


def book_due(
    session: Session,
    settings: Settings,
    *,
    now: datetime,
    docks: tuple[DemoDock, ...] = DEMO_DOCKS,
    lead_in_s: float = LEAD_IN_S,
    every_s: float = EVERY_S,
    stagger_s: float = STAGGER_S,
) -> list[tuple[Sortie, DemoDock]]:
    """Book the next sortie of each dock that has none ahead: at the earliest ``lead_in_s``
    from now, ``every_s`` after its last start, after its last sortie's end and turnaround,
    and ``stagger_s`` away from the other docks' next starts. The sorties booked, by dock."""
    operator = _principal(session, "operator")
    upcoming: list[datetime] = []
    wanted: list[tuple[datetime, DemoDock, Drone, Mission]] = []
    for dock in docks:
        drone = _drone(session, dock)
        mission = _mission(session, dock, _waterway(session, dock))
        if drone is None or mission is None:
            raise DemoNotSeeded(f"dock {dock.dock_sn} is not seeded")
        latest = _latest_sortie(session, drone)
        start = now + timedelta(seconds=lead_in_s)
        if latest is not None:
            if latest.status == SortieStatus.planned and latest.planned_end > now:
                upcoming.append(latest.planned_start)  # booked already
                continue
            start = max(start, latest.planned_start + timedelta(seconds=every_s))
            if latest.status != SortieStatus.aborted:
                turnaround = timedelta(seconds=settings.sortie_turnaround_s)
                start = max(start, latest.planned_end + turnaround)
        wanted.append((start, dock, drone, mission))
    stagger = timedelta(seconds=stagger_s)
    booked: list[tuple[Sortie, DemoDock]] = []
    for start, dock, drone, mission in sorted(wanted, key=lambda w: w[0]):
        at = start if not start.microsecond else start.replace(microsecond=0) + timedelta(seconds=1)
        while near := [u for u in upcoming if abs(at - u) < stagger]:
            at = max(near) + stagger
        sortie = sortie_service.book(
            session,
            operator,
            SortieCreate(drone_id=drone.id, mission_id=mission.id, planned_start=at),
            settings=settings,
            now=now,
        )
        log.debug("booked dock sortie %s: %s at %s", sortie.id, dock.name, at.isoformat())
        upcoming.append(at)
        booked.append((sortie, dock))
    session.flush()
    return booked


# --- the simulated docks --------------------------------------------------------------------


@dataclass
class DemoDockSim(FieldDockSim):
    """The field simulator, plus what a dock left running for hours does: it charges its
    aircraft while docked, and reports a task it lost across a restart as failed."""

    charge_pct_per_min: float = CHARGE_PCT_PER_MIN

    def charge(self, elapsed_s: float) -> None:
        if self.flight is None:
            gained = self.charge_pct_per_min * elapsed_s / 60.0
            self.battery_pct = min(100.0, self.battery_pct + gained)

    async def report_lost(self, flight_id: str) -> None:
        await self._progress(
            flight_id, new_id(), "failed", step=255, percent=0, result=SIM_TASK_LOST
        )


async def _wait(stop: asyncio.Event, timeout_s: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout_s)


class DockDemo:
    """The demo docks on ``settings.mqtt_url`` and the booking pass (see the module doc)."""

    def __init__(
        self,
        settings: Settings,
        *,
        docks: tuple[DemoDock, ...] = DEMO_DOCKS,
        media: MediaServer | None = None,
        download: Download = http_download,
        time_scale: float = 1.0,
        osd_hz: float = 1.0,
        lead_in_s: float = LEAD_IN_S,
        every_s: float = EVERY_S,
        say: Callable[[str], None] = log.info,
    ) -> None:
        self.settings = settings
        self.docks = docks
        self.media = media
        self.download = download
        self.time_scale = time_scale
        self.osd_hz = osd_hz
        self.lead_in_s = lead_in_s
        self.every_s = every_s
        self.say = say
        self.sims: list[DemoDockSim] = []
        self.booked: list[int] = []
        self.ready = threading.Event()  # every dock's topology was answered by the bridge

    @contextlib.contextmanager
    def _session(self, factory: sessionmaker[Session]) -> Iterator[Session]:
        with session_scope(factory) as session:
            audit_service.set_actor(session, audit_service.Actor("demo-docks", "system"))
            yield session

    def _book(self, factory: sessionmaker[Session]) -> list[tuple[int, str, datetime]]:
        with self._session(factory) as session:
            sorties = book_due(
                session,
                self.settings,
                now=utcnow(),
                docks=self.docks,
                lead_in_s=self.lead_in_s,
                every_s=self.every_s,
            )
            return [(s.id, dock.name, s.planned_start) for s, dock in sorties]

    def _lost_flights(self, factory: sessionmaker[Session]) -> list[tuple[str, str]]:
        """(dock SN, flight id) of the tasks a previous run left in the air."""
        with self._session(factory) as session:
            tasks = FlightRepository(session).flying_tasks_of(
                [d.dock_sn for d in self.docks], [s.value for s in FLYING]
            )
            return [(t.gateway_sn, t.flight_id) for t in tasks]

    def _positions(self, factory: sessionmaker[Session]) -> list[tuple[float, float]]:
        with self._session(factory) as session:
            return [dock_position(session, d) for d in self.docks]

    async def _keep_running(self, sim: DemoDockSim, stop: asyncio.Event) -> None:
        """A dock whose broker is not up yet tries again, as a real one does."""
        while not stop.is_set():
            try:
                await sim.run(stop)
            except (aiomqtt.MqttError, OSError) as exc:
                log.warning("demo dock %s: %s; retrying", sim.dock_sn, exc)
                sim.topology_answered.clear()
                await _wait(stop, 2.0)

    async def run(self, stop: asyncio.Event) -> None:
        engine = make_engine(self.settings.database_url)
        audit_service.install_listener()
        audit_service.use_key(engine, self.settings.resolved_audit_key())
        factory = make_sessionmaker(engine)
        address = BrokerAddress.parse(self.settings.mqtt_url)
        try:
            positions = await asyncio.to_thread(self._positions, factory)
            self.sims = [
                DemoDockSim(
                    address,
                    dock.dock_sn,
                    dock.aircraft_sn,
                    lon=lon,
                    lat=lat,
                    osd_hz=self.osd_hz,
                    time_scale=self.time_scale,
                    download=self.download,
                    media=self.media,
                )
                for dock, (lon, lat) in zip(self.docks, positions, strict=True)
            ]
            sim_stop = asyncio.Event()
            tasks = [asyncio.create_task(self._keep_running(s, sim_stop)) for s in self.sims]
            try:
                await self._serve(factory, stop)
            finally:
                for sim in self.sims:
                    await sim.stop_flying()
                sim_stop.set()
                await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            engine.dispose()

    async def _serve(self, factory: sessionmaker[Session], stop: asyncio.Event) -> None:
        while not all(s.topology_answered.is_set() for s in self.sims):
            if stop.is_set():
                return
            await _wait(stop, 0.2)  # the bridge is up and answers the docks
        by_sn = {s.dock_sn: s for s in self.sims}
        lost = await asyncio.to_thread(self._lost_flights, factory)
        for dock_sn, flight_id in lost:
            self.say(f"dock {dock_sn}: flight {flight_id} was lost when the demo stopped")
            await by_sn[dock_sn].report_lost(flight_id)
        for _ in range(100):  # until the bridge has ended them (their sorties hold the docks)
            if not lost or stop.is_set():
                break
            await _wait(stop, 0.2)
            lost = await asyncio.to_thread(self._lost_flights, factory)
        self.ready.set()
        loop = asyncio.get_running_loop()
        last = loop.time()
        next_booking = loop.time()
        while not stop.is_set():
            now = loop.time()
            for sim in self.sims:
                sim.charge(now - last)
            last = now
            if now >= next_booking:
                next_booking = now + BOOK_EVERY_S
                try:
                    for sortie_id, name, start in await asyncio.to_thread(self._book, factory):
                        self.booked.append(sortie_id)
                        local = start.astimezone(self.settings.zone).strftime("%H:%M:%S")
                        self.say(f"dock sortie {sortie_id} booked: {name} at {local}")
                except AppError as exc:  # the loop edge: a refused booking is tried again
                    log.warning("demo dock booking refused: %s", exc.detail)
                    next_booking = now + BOOK_RETRY_S
                except Exception:  # the loop edge: log, go on
                    log.exception("demo dock booking failed")
                    next_booking = now + BOOK_RETRY_S
            await _wait(stop, 1.0)


@contextlib.contextmanager
def running(demo: DockDemo) -> Iterator[DockDemo]:
    """Run ``demo`` on its own event loop in a daemon thread for the duration of the block."""
    started = threading.Event()
    holder: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def main() -> None:
        stop = asyncio.Event()
        holder.append((asyncio.get_running_loop(), stop))
        started.set()
        await demo.run(stop)

    def target() -> None:
        try:
            asyncio.run(main())
        except Exception:  # the thread's edge
            log.exception("the demo docks stopped")
        finally:
            started.set()

    thread = threading.Thread(target=target, name="waterguard-demo-docks", daemon=True)
    thread.start()
    started.wait(10)
    try:
        yield demo
    finally:
        if holder:
            loop, stop = holder[0]
            with contextlib.suppress(RuntimeError):  # the loop ended already
                loop.call_soon_threadsafe(stop.set)
        thread.join(30)


# --- `waterguard serve --demo-docks` --------------------------------------------------------


def environment(*, serve_url: str, media_port: int) -> dict[str, str]:
    """The DJI settings of the demo (each only where the environment does not set it)."""
    return {
        "WATERGUARD_DJI_KMZ_BASE_URL": serve_url,
        "WATERGUARD_DJI_LIVE_PUSH_URL": "rtmp://127.0.0.1/live/{sn}",
        "WATERGUARD_DJI_LIVE_PLAY_URL": f"http://127.0.0.1:{media_port}/live/{{sn}}.mp4",
        "WATERGUARD_DJI_PREPARE_LEAD_S": str(PREPARE_LEAD_S),
        "WATERGUARD_SORTIE_TURNAROUND_S": str(TURNAROUND_S),
    }


@contextlib.contextmanager
def composed(
    settings: Settings,
    *,
    serve_url: str,
    clip_writer: ClipWriter,
    say: Callable[[str], None],
) -> Iterator[Settings]:
    """Broker, DJI settings (in ``os.environ``, for the server's ``get_settings``), seeded
    docks and their simulators with one media server serving ``clip_writer``'s clip, for the
    duration of the block; yields the settings the server will read. Without a broker it says
    why and yields ``settings`` unchanged."""
    with contextlib.ExitStack() as stack:
        if not settings.mqtt_url:
            try:
                broker = demo_broker.start(settings.var_dir)
            except demo_broker.BrokerUnavailable as exc:
                say(
                    f"DJI dock demo off: {exc}; install mosquitto (apt-get install mosquitto) "
                    "or amqtt. The simulated patrol day runs without it."
                )
                yield settings
                return
            stack.callback(broker.stop)
            os.environ["WATERGUARD_MQTT_URL"] = broker.url
            say(f"DJI dock demo: {broker.kind} broker on {broker.url} ({broker.detail})")
        else:
            say(f"DJI dock demo: using the broker of WATERGUARD_MQTT_URL ({settings.mqtt_url})")
        media = MediaServer(clip_writer, MEDIA_PORT if demo_broker.port_is_free(MEDIA_PORT) else 0)
        media.start()
        stack.callback(media.close)
        for name, value in environment(serve_url=serve_url, media_port=media.port).items():
            os.environ.setdefault(name, value)
        get_settings.cache_clear()
        demo_settings = get_settings()
        try:
            created = _seed(demo_settings)
        except DemoNotSeeded as exc:
            say(f"DJI dock demo off: {exc}")
            created = None
        if created is not None:
            if created:
                say(f"demo docks registered: {', '.join(created)}")
            stack.enter_context(running(DockDemo(demo_settings, media=media, say=say)))
            say(
                f"demo docks {', '.join(d.dock_sn for d in DEMO_DOCKS)} on the bridge, live "
                f"video on 127.0.0.1:{media.port}; a dock sortie every {EVERY_S / 60:.0f} min "
                f"or so, the first about {LEAD_IN_S:.0f} s after the start"
            )
        yield demo_settings


def _seed(settings: Settings) -> list[str]:
    engine = make_engine(settings.database_url)
    audit_service.install_listener()
    audit_service.use_key(engine, settings.resolved_audit_key())
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            audit_service.set_actor(session, audit_service.Actor("demo-docks", "system"))
            return seed_docks(session, settings, now=utcnow())
    finally:
        engine.dispose()
