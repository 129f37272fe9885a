"""`waterguard demo`: a simulated patrol day on the demo district, through the real services.

Scheduled sorties fly the Jijiang hot-spot patrol with simulated telemetry; at every hot spot
a generated aerial frame goes through the shipped detector (ONNX Runtime); what it finds is
georeferenced from the drone's pose and reported as sightings, which open incidents; the
operator warns from the air; some people leave the water, the others are escalated to the
nearest ground unit, which acknowledges, arrives and resolves; identified people are referred
to their grid worker (a home visit for a minor), who records the visit.

Everything is written through the same services the API uses, with the simulated time as
``now``, so the figures appear in the statistics and on the dashboard. With ``speed`` > 0 the
day unfolds that many times faster than real time (the dashboard shows it live); with
``speed`` 0 it runs as fast as the machine allows.

This module is a composition root: it builds the detector adapter.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import app.models  # noqa: F401  (every table, for the ORM's foreign keys)
from app.audit import service as audit_service
from app.auth.deps import user_principal
from app.auth.models import User
from app.auth.principal import Principal
from app.config import Settings
from app.db import make_engine, make_sessionmaker, session_scope
from app.drone.models import Drone
from app.incident import service as incident_service
from app.incident.models import Dispatch
from app.incident.schemas import ResolveBody, WarningCreate
from app.jurisdiction.models import Jurisdiction
from app.mission import service as mission_service
from app.mission.models import Mission
from app.mission.schemas import PlanningLimitsIn, PlanRequest
from app.referral import service as referral_service
from app.referral.models import TaskKind
from app.referral.schemas import PersonCreate, ReferralCreate, TaskComplete
from app.schedule import service as schedule_service
from app.schedule.models import PatrolOperation
from app.schedule.schemas import PatrolOperationCreate
from app.sighting import service as sighting_service
from app.sighting.schemas import SightingCreate
from app.sortie import service as sortie_service
from app.sortie import telemetry as sortie_telemetry
from app.sortie.models import SortieStatus
from app.sortie.schemas import SortieCreate, SortieTransition, TelemetryIn
from app.unit.models import GroundUnit
from app.waterway.models import Waterway
from detection import CameraIntrinsics, CameraPose, Detection, georeference
from detection.synth import render_scene
from missions import Hover, PatrolRoute

log = logging.getLogger("waterguard.demo")

WEIGHTS = Path(__file__).resolve().parent.parent / "detection" / "weights" / "swimmer-yolo-n.onnx"
DEMO_WATERWAY = "长江几江段 Yangtze at Jijiang"
SORTIE_LOCAL_TIMES = ((12, 0), (14, 30), (17, 0), (19, 30))
TELEMETRY_STEP_S = 2.0
TELEMETRY_BATCH = 30
ALTITUDE_M = 60.0
FRAME_PX = 640
HFOV_DEG = 70.0
MIN_CONFIDENCE = 0.5
MISSION_NAME = "演示热点巡查"


@dataclass
class DemoReport:
    """What one simulated day produced."""

    sorties: int = 0
    telemetry_samples: int = 0
    frames: int = 0
    detections: int = 0
    sightings: int = 0
    incidents: set[int] = field(default_factory=set)
    warned: int = 0
    cleared: int = 0
    escalated: int = 0
    resolved: int = 0
    referrals: int = 0
    home_visits_done: int = 0

    def lines(self) -> list[str]:
        return [
            f"sorties flown: {self.sorties}",
            f"telemetry samples: {self.telemetry_samples}",
            f"frames through the detector: {self.frames} ({self.detections} detections)",
            f"sightings: {self.sightings}, incidents: {len(self.incidents)}",
            f"warned from the air: {self.warned}; left the water: {self.cleared}; "
            f"escalated to ground units: {self.escalated}; resolved: {self.resolved}",
            f"referrals: {self.referrals}; home visits done: {self.home_visits_done}",
        ]


class SimClock:
    """Simulated time that runs ``speed`` times faster than real time (0: no waiting)."""

    def __init__(self, start: datetime, *, speed: float, stop: threading.Event | None) -> None:
        self.now = start
        self.speed = speed
        self.stop = stop or threading.Event()

    def advance_to(self, at: datetime) -> None:
        if at <= self.now:
            return
        if self.speed > 0:
            wait_s = (at - self.now).total_seconds() / self.speed
            if self.stop.wait(wait_s):
                raise DemoStopped
        self.now = at


class DemoStopped(Exception):
    pass


@dataclass
class Actors:
    operator: Principal
    unit: Principal
    officer: Principal
    grid_worker: Principal


class Demo:
    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: Settings,
        *,
        clock: SimClock,
        seed: int,
        detector: Callable[[np.ndarray], list[Detection]],
        say: Callable[[str], None],
    ) -> None:
        self.factory = factory
        self.settings = settings
        self.clock = clock
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.detect = detector
        self.say = say
        self.report = DemoReport()
        self.agenda: list[tuple[datetime, int, Callable[[], None]]] = []
        self.operation_id: int | None = None
        self.pending: list[TelemetryIn] = []
        self.minors_referred = 0

    def later(self, at: datetime, action: Callable[[], None]) -> None:
        """Do ``action`` at simulated time ``at`` (ground events run while the drone flies)."""
        heapq.heappush(self.agenda, (at, len(self.agenda) + id(action) % 997, action))

    def wait_until(self, at: datetime) -> None:
        while self.agenda and self.agenda[0][0] <= at:
            due, _, action = heapq.heappop(self.agenda)
            self.clock.advance_to(due)
            try:
                action()
            except Exception:  # loop edge: one failed ground step must not end the demo
                log.exception("demo step at %s failed", due.isoformat())
        self.clock.advance_to(at)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        session = self.factory()
        audit_service.set_actor(session, audit_service.Actor("demo", "system"))
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def actors(self, session: Session) -> Actors:
        def principal(username: str) -> Principal:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise RuntimeError(f"demo user {username!r} is missing: run seed-demo first")
            return user_principal(session, user)

        return Actors(
            operator=principal("operator"),
            unit=principal("unit"),
            officer=principal("officer"),
            grid_worker=principal("gridworker"),
        )

    # --- setting up --------------------------------------------------------------------

    def mission_and_drone(self, session: Session, actors: Actors) -> tuple[Mission, Drone]:
        waterway = session.scalar(select(Waterway).where(Waterway.name == DEMO_WATERWAY))
        if waterway is None:
            raise RuntimeError("the demo waterway is missing: run seed-demo first")
        drone = session.scalar(
            select(Drone).where(Drone.station_id == waterway.station_id).order_by(Drone.id)
        )
        if drone is None:
            raise RuntimeError("the demo station has no drone")
        mission = session.scalar(
            select(Mission).where(
                Mission.waterway_id == waterway.id, Mission.name == "演示热点巡查"
            )
        )
        if mission is None:
            mission = mission_service.create(
                session,
                actors.operator,
                PlanRequest(
                    waterway_id=waterway.id,
                    drone_model_id=drone.model_id,
                    pattern="hotspots",  # type: ignore[arg-type]
                    name=MISSION_NAME,
                    limits=PlanningLimitsIn(altitude_m=ALTITUDE_M, hover_s=30.0),
                ),
                settings=self.settings,
            )
        return mission, drone

    # --- one sortie -------------------------------------------------------------------

    def fly(self, start: datetime) -> None:
        with self.unit_of_work() as session:
            actors = self.actors(session)
            mission, drone = self.mission_and_drone(session, actors)
            sortie = sortie_service.book(
                session,
                actors.operator,
                SortieCreate(
                    drone_id=drone.id,
                    mission_id=mission.id,
                    planned_start=start,
                    operation_id=self.operation_id,
                ),
                settings=self.settings,
                now=self.clock.now,
            )
            sortie_id = sortie.id
            route = mission_service.route_of(mission.sorties[0]["route"])
            waterway = session.get(Waterway, mission.waterway_id)
            assert waterway is not None
            deep = [shape(z["area"]) for z in waterway.deep_water_zones]
        self.wait_until(start)
        self.say(f"{self.local(start)} sortie {sortie_id}: preflight")
        self.move(sortie_id, SortieStatus.preflight, battery_pct=98.0, wind_mps=3.0)
        self.move(sortie_id, SortieStatus.airborne)
        self.report.sorties += 1
        at = self.clock.now
        for position, is_hotspot in self.track(route):
            at = at + timedelta(seconds=TELEMETRY_STEP_S)
            self.pending.append(self.sample(at, position))
            if len(self.pending) >= TELEMETRY_BATCH or is_hotspot:
                self.send_telemetry(sortie_id, at)
            if is_hotspot:
                self.look(sortie_id, at, position, deep)
        self.send_telemetry(sortie_id, at)
        self.move(sortie_id, SortieStatus.returning)
        self.wait_until(at + timedelta(seconds=60))
        self.move(sortie_id, SortieStatus.landed)
        self.say(f"{self.local(self.clock.now)} sortie {sortie_id}: landed")

    def local(self, at: datetime) -> str:
        return at.astimezone(self.settings.zone).strftime("%H:%M")

    def track(self, route: PatrolRoute) -> Iterator[tuple[tuple[float, float], bool]]:
        """Positions every TELEMETRY_STEP_S along the route, flagging hot-spot hovers."""
        speed = route.speed_mps
        here = (route.launch.lon_deg, route.launch.lat_deg)
        for waypoint in route.waypoints:
            there = (waypoint.position.lon_deg, waypoint.position.lat_deg)
            distance_m = _metres(here, there)
            steps = max(1, int(distance_m / (speed * TELEMETRY_STEP_S)))
            for i in range(1, steps + 1):
                f = i / steps
                yield (
                    (here[0] + (there[0] - here[0]) * f, here[1] + (there[1] - here[1]) * f),
                    (i == steps and any(isinstance(a, Hover) for a in waypoint.actions)),
                )
            here = there

    def sample(self, at: datetime, position: tuple[float, float]) -> TelemetryIn:
        flown_s = (at - self.clock.now).total_seconds()
        return TelemetryIn(
            at=at,
            lon=position[0],
            lat=position[1],
            alt_m=ALTITUDE_M,
            speed_mps=8.0,
            battery_pct=max(35.0, 98.0 - flown_s / 30.0),
            gimbal_pitch_deg=-90.0,
        )

    def send_telemetry(self, sortie_id: int, at: datetime) -> None:
        if not self.pending:
            return
        self.wait_until(at)
        with self.unit_of_work() as session:
            actors = self.actors(session)
            accepted = sortie_telemetry.ingest(
                session,
                actors.operator,
                sortie_id,
                self.pending,
                settings=self.settings,
                now=self.clock.now,
            )
        self.report.telemetry_samples += accepted.accepted
        self.pending = []

    def move(self, sortie_id: int, to: SortieStatus, **checks: float) -> None:
        with self.unit_of_work() as session:
            actors = self.actors(session)
            sortie_service.transition(
                session,
                actors.operator,
                sortie_id,
                SortieTransition(to=to, **checks),  # type: ignore[arg-type]
                settings=self.settings,
                now=self.clock.now,
            )

    # --- the eye ------------------------------------------------------------------------

    def look(
        self,
        sortie_id: int,
        at: datetime,
        position: tuple[float, float],
        deep: Sequence[BaseGeometry],
    ) -> None:
        """Render what the camera sees over a hot spot and report the people found."""
        night = self.clock.now.astimezone(self.settings.zone).hour >= 19
        scene = render_scene(self.rng, size_px=FRAME_PX, night=night)
        detections = [d for d in self.detect(scene.image) if d.confidence >= MIN_CONFIDENCE]
        self.report.frames += 1
        self.report.detections += len(detections)
        if not detections:
            return
        camera = CameraIntrinsics.from_hfov(
            width_px=FRAME_PX, height_px=FRAME_PX, hfov_deg=HFOV_DEG
        )
        pose = CameraPose(
            lon_deg=position[0],
            lat_deg=position[1],
            height_above_water_m=ALTITUDE_M,
            yaw_deg=0.0,
            pitch_deg=-90.0,
            roll_deg=0.0,
        )
        fixes = [
            georeference(
                (d.box.x1 + d.box.x2) / 2, (d.box.y1 + d.box.y2) / 2, pose=pose, camera=camera
            )
            for d in detections
        ]
        lon = sum(f.lon_deg for f in fixes) / len(fixes)
        lat = sum(f.lat_deg for f in fixes) / len(fixes)
        is_deep = any(z.contains(Point(f.lon_deg, f.lat_deg)) for z in deep for f in fixes)
        key = hashlib.sha1(f"{self.seed}:{sortie_id}:{at.isoformat()}".encode()).hexdigest()
        with self.unit_of_work() as session:
            actors = self.actors(session)
            sighting, _ = sighting_service.ingest(
                session,
                actors.operator,
                SightingCreate(
                    client_id=f"demo-{key[:20]}",
                    lon=lon,
                    lat=lat,
                    seen_at=at,
                    people_count=min(len(detections), 200),
                    is_deep_water=is_deep,
                    is_suspected_minor=bool(self.rng.random() < 0.3),
                    confidence=round(max(d.confidence for d in detections), 3),
                    sortie_ref=f"sortie-{sortie_id}",
                ),
                now=self.clock.now,
                distance_limit_m=self.settings.incident_group_distance_m,
                window_s=self.settings.incident_group_window_s,
                zone=self.settings.zone,
            )
            incident_id = sighting.incident_id
            is_minor = sighting.is_suspected_minor
        self.report.sightings += 1
        is_new = incident_id not in self.report.incidents
        self.report.incidents.add(incident_id)
        self.say(f"{self.local(at)} {len(detections)} in the water -> incident {incident_id}")
        if is_new:
            self.respond(incident_id, is_minor=is_minor)

    # --- the ground ---------------------------------------------------------------------

    def respond(self, incident_id: int, *, is_minor: bool) -> None:
        """Warn from the air now; later the people leave, or a ground unit is sent."""
        start = self.clock.now
        with self.unit_of_work() as session:
            incident_service.warn(
                session,
                self.actors(session).operator,
                incident_id,
                WarningCreate(modes=["voice", "light"], message_key="deep_water"),  # type: ignore[list-item]
                now=self.clock.now,
            )
        self.report.warned += 1
        if self.rng.random() < 0.5:
            self.later(start + timedelta(minutes=2), lambda: self.cleared(incident_id))
        else:
            self.later(start + timedelta(minutes=3), lambda: self.escalate(incident_id, is_minor))

    def cleared(self, incident_id: int) -> None:
        with self.unit_of_work() as session:
            incident_service.clear(
                session, self.actors(session).operator, incident_id, now=self.clock.now
            )
        self.report.cleared += 1
        self.say(f"{self.local(self.clock.now)} incident {incident_id}: people left the water")
        self.later(self.clock.now + timedelta(minutes=5), lambda: self.close(incident_id))

    def close(self, incident_id: int) -> None:
        with self.unit_of_work() as session:
            incident_service.close(
                session, self.actors(session).operator, incident_id, now=self.clock.now
            )

    def escalate(self, incident_id: int, is_minor: bool) -> None:
        with self.unit_of_work() as session:
            incident_service.escalate(
                session, self.actors(session).operator, incident_id, now=self.clock.now
            )
        self.report.escalated += 1
        self.say(
            f"{self.local(self.clock.now)} incident {incident_id}: warning ignored, "
            "ground unit sent"
        )
        t = self.clock.now
        self.later(t + timedelta(minutes=1), lambda: self.unit_step(incident_id, "ack", is_minor))
        self.later(
            t + timedelta(minutes=8), lambda: self.unit_step(incident_id, "arrive", is_minor)
        )
        self.later(
            t + timedelta(minutes=12), lambda: self.unit_step(incident_id, "resolve", is_minor)
        )

    def terminal(self, session: Session, incident_id: int) -> Principal | None:
        """The dispatched unit's terminal, as a unit-terminal device would act."""
        dispatch = session.scalar(
            select(Dispatch)
            .where(Dispatch.incident_id == incident_id, Dispatch.unit_id.is_not(None))
            .order_by(Dispatch.id.desc())
        )
        if dispatch is None or dispatch.unit_id is None:
            return None
        unit = session.get(GroundUnit, dispatch.unit_id)
        station = session.get(Jurisdiction, unit.station_id) if unit else None
        if unit is None or station is None:
            return None
        return Principal(
            kind="device",
            id=0,
            name=f"terminal {unit.call_sign}",
            role=None,
            scopes=frozenset({"alerts:read", "unit:position"}),
            jurisdiction_id=station.id,
            jurisdiction_path=station.path,
            ground_unit_id=unit.id,
        )

    def unit_step(self, incident_id: int, step: str, is_minor: bool) -> None:
        now = self.clock.now
        with self.unit_of_work() as session:
            unit = self.terminal(session, incident_id)
            if unit is None:
                log.info("demo: incident %s has no unit dispatched", incident_id)
                return
            if step == "ack":
                incident_service.acknowledge(session, unit, incident_id, now=now)
            elif step == "arrive":
                incident_service.arrive(session, unit, incident_id, now=now)
            else:
                incident_service.resolve(
                    session,
                    unit,
                    incident_id,
                    ResolveBody(outcome="dissuaded", note="劝离上岸 / talked out of the water"),  # type: ignore[arg-type]
                    now=now,
                )
        self.say(f"{self.local(now)} incident {incident_id}: {unit.name} {step}")
        if step == "resolve":
            self.report.resolved += 1
            self.later(now + timedelta(minutes=5), lambda: self.close(incident_id))
            minor = is_minor or self.minors_referred == 0
            self.later(now + timedelta(minutes=20), lambda: self.refer(incident_id, is_minor=minor))

    def refer(self, incident_id: int, *, is_minor: bool) -> None:
        at = self.clock.now
        self.minors_referred += int(is_minor)
        with self.unit_of_work() as session:
            actors = self.actors(session)
            person = referral_service.create_person(
                session,
                actors.officer,
                PersonCreate(
                    incident_id=incident_id,
                    community_id=actors.grid_worker.jurisdiction_id,
                    is_minor=is_minor,
                    guardian_name="演示家长" if is_minor else None,
                    guardian_phone="13900001111" if is_minor else None,
                ),
            )
            _, tasks = referral_service.refer(
                session,
                actors.officer,
                ReferralCreate(person_id=person.id, incident_id=incident_id),
                now=at,
            )
            plan = [(t.id, t.kind) for t in tasks]
        self.report.referrals += 1
        self.say(
            f"{self.local(at)} incident {incident_id}: referred "
            f"({'minor, guardian home visit' if is_minor else 'education talk'})"
        )
        for task_id, kind in plan:
            is_visit = kind == TaskKind.guardian_home_visit
            self.later(
                at + timedelta(hours=3 if is_visit else 2),
                functools.partial(self.follow_up, task_id, is_visit),
            )

    def follow_up(self, task_id: int, is_visit: bool) -> None:
        """The grid worker gives the education talk; an officer visits a minor's guardian."""
        with self.unit_of_work() as session:
            actors = self.actors(session)
            referral_service.complete_task(
                session,
                actors.officer if is_visit else actors.grid_worker,
                task_id,
                TaskComplete(
                    outcome="已上门，家长签收安全告知书 / visited, guardian signed the notice"
                    if is_visit
                    else "已开展一对一防溺水教育 / one-to-one water safety talk given"
                ),
                now=self.clock.now,
            )
        if is_visit:
            self.report.home_visits_done += 1

    # --- the day --------------------------------------------------------------------------

    def run_day(self, starts: list[datetime]) -> DemoReport:
        self.pending = []
        day = starts[0].astimezone(self.settings.zone).date()
        with self.unit_of_work() as session:
            actors = self.actors(session)
            operation = schedule_service.create_operation(
                session,
                actors.operator,
                PatrolOperationCreate(
                    name=operation_name(day),
                    starts_on=day,
                    ends_on=day,
                    jurisdiction_id=actors.operator.jurisdiction_id,
                ),
            )
            self.operation_id = operation.id
        for start in starts:
            try:
                self.fly(start)
            except DemoStopped:
                raise
            except Exception:  # loop edge: log with context, go on with the next sortie
                log.exception("demo sortie at %s failed", start.isoformat())
        return self.report


def operation_name(day: date) -> str:
    return f"演示巡查行动 demo patrol {day.isoformat()}"


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat = math.radians((a[1] + b[1]) / 2)
    dx = (b[0] - a[0]) * 111_320.0 * math.cos(lat)
    dy = (b[1] - a[1]) * 110_540.0
    return math.hypot(dx, dy)


def onnx_detector(weights: Path = WEIGHTS) -> Callable[[np.ndarray], list[Detection]]:
    from detection.onnx import OnnxDetector

    detector = OnnxDetector(weights)
    return detector.detect


def run(
    settings: Settings,
    *,
    day: date | None = None,
    speed: float = 0.0,
    seed: int = 7,
    stop: threading.Event | None = None,
    say: Callable[[str], None] = log.info,
    detector: Callable[[np.ndarray], list[Detection]] | None = None,
    if_missing: bool = False,
) -> DemoReport:
    """Simulate one patrol day (default: today in the display zone, from now on).

    With ``if_missing``, a day whose demo patrol operation exists is left as it is.
    """
    engine = make_engine(settings.database_url)
    try:
        factory = make_sessionmaker(engine)
        audit_service.install_listener()
        zone = settings.zone
        if day is not None and if_missing:
            with session_scope(factory) as session:
                name = operation_name(day)
                if session.scalar(select(PatrolOperation.id).where(PatrolOperation.name == name)):
                    say(f"demo day {day.isoformat()} is already there")
                    return DemoReport()
        if day is None:
            # Live: four sorties from a minute from now, 40 minutes apart.
            start = datetime.now(UTC).replace(microsecond=0)
            starts = [start + timedelta(minutes=1 + 40 * k) for k in range(4)]
        else:
            start = datetime(day.year, day.month, day.day, 8, tzinfo=zone).astimezone(UTC)
            starts = [
                datetime(day.year, day.month, day.day, h, m, tzinfo=zone).astimezone(UTC)
                for h, m in SORTIE_LOCAL_TIMES
            ]
        demo = Demo(
            factory,
            settings,
            clock=SimClock(start, speed=speed, stop=stop),
            seed=seed,
            detector=detector or onnx_detector(),
            say=say,
        )
        try:
            demo.run_day(starts)
            demo.wait_until(demo.clock.now + timedelta(hours=4))  # the day's ground work
        except DemoStopped:
            say("demo stopped")
        return demo.report
    finally:
        engine.dispose()


def start_background(settings: Settings, *, speed: float) -> threading.Event:
    """Run the demo in a daemon thread (``make run``); returns the event that stops it."""
    stop = threading.Event()

    def loop() -> None:
        time.sleep(2.0)  # let the server come up first
        while not stop.is_set():
            report = run(settings, speed=speed, stop=stop)
            log.info("demo day done: %s", "; ".join(report.lines()))
            if stop.wait(600):
                break

    threading.Thread(target=loop, name="waterguard-demo", daemon=True).start()
    return stop
