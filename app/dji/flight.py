"""Patrols that fly themselves: a sortie of a dock aircraft as a DJI wayline task.

``flighttask_prepare`` goes out ``WATERGUARD_DJI_PREPARE_LEAD_S`` before the sortie's start
(after the dock's own weather and the aircraft's battery passed preflight), then
``flighttask_execute`` at its start; ``flighttask_progress`` events move the sortie through
its lifecycle. The flight runner (``app.dji.flight_runner``) calls these functions on the
bridge's database thread; operators pause, resume and recall through the API.

Progress is applied idempotently: a redelivered event changes nothing, an older event than
the newest applied never moves the status back (the waypoint index only grows), and a task
that ended stays ended.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from app.alert import service as alert_service
from app.alert.models import AlertKind
from app.audit import service as audit_service
from app.auth.principal import Principal
from app.config import Settings
from app.dji import kmz_link
from app.dji.flight_repository import FlightRepository
from app.dji.models import DjiFlightTask
from app.dji.protocol import Rainfall
from app.drone.models import Drone, DroneStatus
from app.errors import Conflict, NotFound
from app.jurisdiction import service as jurisdiction_service
from app.mission.models import Mission
from app.sortie import service as sortie_service
from app.sortie.models import Sortie, SortieEventKind, SortieStatus
from app.waterway.models import Waterway


class TaskState(StrEnum):
    refused = "refused"  # preflight said no; nothing was sent
    preparing = "preparing"  # flighttask_prepare sent, no reply yet
    prepared = "prepared"  # the dock accepted it; execute at execute_at
    executing = "executing"  # flighttask_execute sent
    airborne = "airborne"  # progress says the wayline is being flown
    returning = "returning"  # recalled (return_home) or landing
    landed = "landed"
    failed = "failed"


FLYING = (TaskState.executing, TaskState.airborne, TaskState.returning)
ENDED = (TaskState.refused, TaskState.landed, TaskState.failed)
#: ``flighttask_progress`` statuses (fact sheet section 4).
DONE_OK = frozenset({"ok", "partially_done"})
DONE_BAD = frozenset({"failed", "rejected", "timeout", "canceled"})
RUNNING = frozenset({"sent", "in_progress", "paused"})
#: ``progress.current_step`` from which the aircraft flies the wayline (25 "wayline executing").
STEP_WAYLINE = 25
#: ``ext.wayline_mission_state``: 5 entering wayline .. 8 recovering.
FLYING_MISSION_STATES = frozenset({5, 6, 7, 8})


class DockFlightNotFound(NotFound):
    pass


class NotADockFlight(Conflict):
    """The sortie is not flown by a dock aircraft as a flight task."""


class DockFlightNotAirborne(Conflict):
    """Pause, resume and recall need the aircraft in the air on its task."""


# --- preflight from the dock's own sensors (pure) -------------------------------------------


@dataclass(frozen=True, slots=True)
class DockConditions:
    """What the dock reports: its anemometer (m/s), its rain gauge (0 none .. 3 heavy) and the
    aircraft's charge (the dock's ``drone_charge_state``, else the aircraft's ``battery``)."""

    wind_mps: float | None
    rainfall: int | None
    battery_pct: float | None


@dataclass(frozen=True, slots=True)
class Refusal:
    check: str
    en: str
    zh: str


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def conditions_from(dock: dict[str, Any], aircraft: dict[str, Any]) -> DockConditions:
    """The preflight inputs from the merged OSD of the dock and its aircraft.

    >>> conditions_from({"wind_speed": 3.5, "rainfall": 1,
    ...                  "drone_charge_state": {"capacity_percent": 90, "state": 0}}, {})
    DockConditions(wind_mps=3.5, rainfall=1, battery_pct=90.0)
    >>> conditions_from({}, {"battery": {"capacity_percent": 55}}).battery_pct
    55.0
    """
    charge = dock.get("drone_charge_state")
    battery = _num(charge.get("capacity_percent")) if isinstance(charge, dict) else None
    if battery is None:
        own = aircraft.get("battery")
        battery = _num(own.get("capacity_percent")) if isinstance(own, dict) else None
    rainfall = _num(dock.get("rainfall"))
    return DockConditions(
        wind_mps=_num(dock.get("wind_speed")),
        rainfall=int(rainfall) if rainfall is not None else None,
        battery_pct=battery,
    )


_RAIN_ZH = {0: "无雨", 1: "小雨", 2: "中雨", 3: "大雨"}


def refusals(
    conditions: DockConditions,
    *,
    max_wind_mps: float,
    max_rainfall: int,
    min_battery_pct: float,
) -> list[Refusal]:
    """Why the dock must not launch now; empty when it may. Missing readings refuse too: a
    dock that does not report its weather cannot show that it is safe.

    >>> [r.check for r in refusals(DockConditions(14.0, 0, 95.0), max_wind_mps=12,
    ...     max_rainfall=0, min_battery_pct=80)]
    ['wind']
    >>> refusals(DockConditions(3.0, 0, 95.0), max_wind_mps=12, max_rainfall=0,
    ...     min_battery_pct=80)
    []
    """
    out: list[Refusal] = []
    wind = conditions.wind_mps
    if wind is None:
        out.append(Refusal("wind", "the dock reports no wind speed", "机场未上报风速"))
    elif wind > max_wind_mps:
        out.append(
            Refusal(
                "wind",
                f"wind {wind:g} m/s at the dock, over the {max_wind_mps:g} m/s limit",
                f"机场风速 {wind:g} 米/秒，超过 {max_wind_mps:g} 米/秒上限",
            )
        )
    rain = conditions.rainfall
    if rain is None:
        out.append(Refusal("rainfall", "the dock reports no rainfall", "机场未上报降雨"))
    elif rain > max_rainfall:
        name = Rainfall(rain).name if rain in Rainfall._value2member_map_ else str(rain)
        out.append(
            Refusal(
                "rainfall",
                f"{name} rain at the dock (allowed: up to {Rainfall(max_rainfall).name})",
                f"机场{_RAIN_ZH.get(rain, str(rain))}（允许：{_RAIN_ZH[max_rainfall]}及以下）",
            )
        )
    battery = conditions.battery_pct
    if battery is None:
        out.append(Refusal("battery", "the aircraft's charge is not reported", "未上报飞行器电量"))
    elif battery < min_battery_pct:
        out.append(
            Refusal(
                "battery",
                f"aircraft battery {battery:g}%, under the {min_battery_pct:g}% minimum",
                f"飞行器电量 {battery:g}%，低于 {min_battery_pct:g}% 下限",
            )
        )
    return out


# --- messages (pure) ------------------------------------------------------------------------


def prepare_data(
    *, flight_id: str, execute_at: datetime, kmz_url: str, fingerprint: str, rth_altitude_m: int
) -> dict[str, Any]:
    """``flighttask_prepare`` data: a timed task (``task_type`` 1) at ``execute_at``."""
    return {
        "flight_id": flight_id,
        "execute_time": int(execute_at.timestamp() * 1000),
        "task_type": 1,
        "file": {"url": kmz_url, "fingerprint": fingerprint},
        "rth_altitude": max(20, min(1500, rth_altitude_m)),
        "rth_mode": 1,  # docks support only "preset"
        "out_of_control_action": 0,  # fixed to return-to-home by DJI
        "exit_wayline_when_rc_lost": 1,
        "wayline_precision_type": 1,
        "flight_safety_advance_check": 0,
    }


@dataclass(frozen=True, slots=True)
class Order:
    """A service the runner sends for a sortie."""

    sortie_id: int
    gateway_sn: str
    method: str
    data: dict[str, Any]


# --- lifecycle ------------------------------------------------------------------------------


def _move(
    session: Session,
    sortie: Sortie,
    to: SortieStatus,
    detail: str,
    *,
    now: datetime,
    reason: str | None = None,
) -> bool:
    """Move the sortie forward along its lifecycle (through ``returning`` to ``landed``);
    False when it is there already or cannot go there (the move is then a no-op)."""
    current = SortieStatus(sortie.status)
    if current == to:
        return False
    path = [to]
    if to is SortieStatus.landed and current in (SortieStatus.airborne, SortieStatus.preflight):
        path = [SortieStatus.returning, to] if current is SortieStatus.airborne else []
        if current is SortieStatus.preflight:
            path = [SortieStatus.airborne, SortieStatus.returning, to]
    if to is SortieStatus.airborne and current is SortieStatus.planned:
        path = [SortieStatus.preflight, to]
    if not path:
        return False
    step_from = current
    for step in path:
        if step not in sortie_service.TRANSITIONS[step_from]:
            return False
        step_from = step
    drone = session.get(Drone, sortie.drone_id)
    for step in path:
        previous = SortieStatus(sortie.status)
        sortie.status = step
        setattr(sortie, sortie_service.STAMP[step], now)
        if drone is not None and step is SortieStatus.airborne:
            drone.status = DroneStatus.in_flight
        if step in (SortieStatus.landed, SortieStatus.aborted):
            if drone is not None and drone.status == DroneStatus.in_flight:
                drone.status = DroneStatus.ready
            sortie.violations = []
        if step is SortieStatus.aborted:
            sortie.abort_reason = (reason or detail)[:300]
        sortie_service.add_event(
            session,
            sortie,
            SortieEventKind.state,
            f"{previous} -> {step}: {detail}",
            at=now,
            data={"status": str(step), "from": str(previous), "by": "dji-dock"},
        )
    return True


def due(
    session: Session, *, now: datetime, lead_s: float
) -> tuple[list[tuple[int, str, str]], list[int]]:
    """Sorties whose ``flighttask_prepare`` is due (sortie id, gateway SN, aircraft SN), and
    those whose ``flighttask_execute`` is due."""
    repo = FlightRepository(session)
    lead_until = now + timedelta(seconds=lead_s)
    return list(repo.due_prepares(now=now, lead_until=lead_until)), list(repo.due_executes(now=now))


def begin_prepare(
    session: Session,
    sortie_id: int,
    *,
    dock: dict[str, Any],
    aircraft: dict[str, Any],
    settings: Settings,
    secret_key: str,
    now: datetime,
) -> Order | None:
    """Check the sortie at its dock and write its flight task: refused (the sortie is aborted
    with the reasons, nothing is sent) or preparing (the ``flighttask_prepare`` to send)."""
    repo = FlightRepository(session)
    sortie = repo.sortie(sortie_id, for_update=True)
    if sortie is None or sortie.status != SortieStatus.planned or repo.task_of(sortie_id):
        return None
    found = repo.due_prepares(now=now, lead_until=sortie.planned_start, limit=1_000)
    match = [(g, a) for s, g, a in found if s == sortie_id]
    if not match:
        return None
    gateway_sn, aircraft_sn = match[0]
    drone = session.get(Drone, sortie.drone_id)
    assert drone is not None  # foreign key
    problems = refusals(
        conditions_from(dock, aircraft),
        max_wind_mps=settings.dji_preflight_max_wind_mps,
        max_rainfall=settings.dji_preflight_max_rainfall,
        min_battery_pct=settings.preflight_min_battery_pct,
    )
    gateway = repo.gateway_by_sn(gateway_sn)
    if gateway is None or not gateway.online:
        problems.insert(0, Refusal("dock_online", "the dock is offline", "机场离线"))
    if drone.status != DroneStatus.ready:
        problems.append(
            Refusal("drone_ready", f"the drone is {drone.status}", f"无人机状态为 {drone.status}")
        )
    mission = session.get(Mission, sortie.mission_id)
    waterway = session.get(Waterway, sortie.waterway_id)
    if mission is not None and waterway is not None:
        start = max(now, sortie.planned_start)
        for problem in sortie_service.airspace_problems(
            session,
            waterway=waterway,
            mission=mission,
            route_index=sortie.route_index,
            start=start,
            end=start + (sortie.planned_end - sortie.planned_start),
        ):
            problems.append(Refusal("airspace", problem, f"禁飞时段：{problem}"))
    task = DjiFlightTask(
        sortie_id=sortie.id,
        flight_id=str(uuid.uuid4()),
        gateway_sn=gateway_sn,
        aircraft_sn=aircraft_sn,
        state=TaskState.preparing,
        execute_at=max(now, sortie.planned_start),
        last_progress_ms=0,
        paused=False,
    )
    session.add(task)
    checks = [{"check": p.check, "ok": False, "detail": p.en, "detail_zh": p.zh} for p in problems]
    if problems:
        task.state = TaskState.refused
        task.finished_at = now
        task.reason_en = ("preflight refused: " + "; ".join(p.en for p in problems))[:500]
        task.reason_zh = ("起飞前检查未通过：" + "；".join(p.zh for p in problems))[:500]
        sortie.preflight_checks = checks
        _move(session, sortie, SortieStatus.aborted, task.reason_en, now=now)
        session.flush()
        return None
    kmz = kmz_link.kmz_of(session, sortie)
    task.kmz_md5 = kmz.fingerprint
    sortie.preflight_checks = [
        {"check": "dock_weather", "ok": True, "detail": "wind, rain and battery within limits"}
    ]
    _move(session, sortie, SortieStatus.preflight, "flighttask_prepare sent", now=now)
    session.flush()
    url = kmz_link.url(settings, secret_key, sortie_id=sortie.id, flight_id=task.flight_id)
    return Order(
        sortie_id=sortie.id,
        gateway_sn=gateway_sn,
        method="flighttask_prepare",
        data=prepare_data(
            flight_id=task.flight_id,
            execute_at=task.execute_at,
            kmz_url=url,
            fingerprint=kmz.fingerprint,
            rth_altitude_m=int(max(settings.altitude_floor_m, 60.0)),
        ),
    )


def _fail(session: Session, task: DjiFlightTask, en: str, zh: str, *, now: datetime) -> None:
    task.state = TaskState.failed
    task.finished_at = now
    task.reason_en, task.reason_zh = en[:500], zh[:500]
    sortie = FlightRepository(session).sortie(task.sortie_id, for_update=True)
    if sortie is not None:
        _move(session, sortie, SortieStatus.aborted, en, now=now)


def record_reply(
    session: Session, sortie_id: int, method: str, result: int | None, *, now: datetime
) -> None:
    """The dock's answer to prepare or execute (``None``: no answer after every resend)."""
    task = FlightRepository(session).task_of(sortie_id, for_update=True)
    if task is None or task.state in ENDED:
        return
    if result == 0:
        if method == "flighttask_prepare" and task.state == TaskState.preparing:
            task.state = TaskState.prepared
            task.prepared_at = now
        elif method == "flighttask_execute" and task.state == TaskState.executing:
            task.executed_at = now
    elif result is None:
        _fail(
            session,
            task,
            f"the dock did not answer {method}",
            f"机场未响应 {method}",
            now=now,
        )
    else:
        task.dji_result = result
        _fail(
            session,
            task,
            f"the dock refused {method}: DJI code {result}",
            f"机场拒绝 {method}：大疆错误码 {result}",
            now=now,
        )
    session.flush()


def fail_silent(session: Session, *, now: datetime, silent_s: float) -> list[int]:
    """Fail the tasks whose dock accepted ``flighttask_execute`` ``silent_s`` ago and has
    sent no ``flighttask_progress`` since (the sortie would wait in preflight for ever)."""
    repo = FlightRepository(session)
    failed: list[int] = []
    for sortie_id in repo.silent_executes(since=now - timedelta(seconds=silent_s)):
        task = repo.task_of(sortie_id, for_update=True)
        if task is None or task.state != TaskState.executing or task.last_progress_ms:
            continue  # progress came in meanwhile
        _fail(
            session,
            task,
            f"the dock sent no flighttask_progress for {silent_s:g} s after flighttask_execute",
            f"机场在执行航线任务后 {silent_s:g} 秒内未上报任何进度",
            now=now,
        )
        failed.append(sortie_id)
    session.flush()
    return failed


def begin_execute(session: Session, sortie_id: int) -> Order | None:
    repo = FlightRepository(session)
    task = repo.task_of(sortie_id, for_update=True)
    if task is None or task.state != TaskState.prepared:
        return None
    task.state = TaskState.executing
    session.flush()
    return Order(sortie_id, task.gateway_sn, "flighttask_execute", {"flight_id": task.flight_id})


# --- progress -------------------------------------------------------------------------------


def _int(value: Any) -> int | None:
    number = _num(value)
    return int(number) if number is not None else None


def apply_progress(
    session: Session, gateway_sn: str, data: dict[str, Any], *, timestamp_ms: int, now: datetime
) -> bool:
    """One ``flighttask_progress`` event; True when it changed anything."""
    output = data.get("output") if isinstance(data.get("output"), dict) else {}
    assert isinstance(output, dict)
    ext = output.get("ext") if isinstance(output.get("ext"), dict) else {}
    assert isinstance(ext, dict)
    progress = output.get("progress") if isinstance(output.get("progress"), dict) else {}
    assert isinstance(progress, dict)
    flight_id = str(ext.get("flight_id") or "")
    repo = FlightRepository(session)
    task = repo.task_by_flight(gateway_sn, flight_id, for_update=True) if flight_id else None
    if task is None:
        task = repo.current_task_of_gateway(gateway_sn, [s.value for s in FLYING], for_update=True)
    if task is None or task.state in (TaskState.refused, TaskState.preparing):
        return False
    sortie = repo.sortie(task.sortie_id, for_update=True)
    if sortie is None:
        return False
    changed = False
    index = _int(ext.get("current_waypoint_index"))
    newer = index is not None and (task.waypoint_index is None or index > task.waypoint_index)
    if newer and task.state not in ENDED:
        task.waypoint_index = index
        sortie_service.add_event(
            session,
            sortie,
            SortieEventKind.dock_task,
            f"waypoint {index}",
            at=now,
            data={"waypoint_index": index, "flight_id": task.flight_id},
        )
        changed = True
    if task.state in ENDED or timestamp_ms < task.last_progress_ms:
        session.flush()
        return changed  # ended, or older than what was applied: status stays
    task.last_progress_ms = timestamp_ms
    status = str(output.get("status") or "")
    result = _int(data.get("result"))
    step = _int(progress.get("current_step"))
    if step is not None:
        task.current_step = step
    if status and status != task.dji_status:
        task.dji_status = status
        changed = True
    mission_state = _int(ext.get("wayline_mission_state"))
    if status in RUNNING:
        paused = status == "paused"
        if paused != task.paused:
            task.paused = paused
            sortie_service.add_event(
                session,
                sortie,
                SortieEventKind.dock_task,
                "paused" if paused else "resumed",
                at=now,
                data={"paused": paused, "flight_id": task.flight_id},
            )
        in_air = (step is not None and step >= STEP_WAYLINE) or (
            mission_state in FLYING_MISSION_STATES
        )
        if in_air and task.state in (TaskState.prepared, TaskState.executing):
            task.state = TaskState.airborne
            _move(session, sortie, SortieStatus.airborne, "the dock launched", now=now)
            changed = True
    elif status in DONE_OK or (status == "canceled" and task.state == TaskState.returning):
        task.state = TaskState.landed
        task.finished_at = now
        task.paused = False
        _move(session, sortie, SortieStatus.landed, f"flight task {status}", now=now)
        changed = True
    elif status in DONE_BAD:
        task.dji_result = result
        _fail(
            session,
            task,
            f"flight task {status} (DJI code {result})",
            f"航线任务{_STATUS_ZH.get(status, status)}（大疆错误码 {result}）",
            now=now,
        )
        changed = True
    session.flush()
    return changed


_STATUS_ZH = {"failed": "失败", "rejected": "被拒绝", "timeout": "超时", "canceled": "已取消"}


def resource(
    session: Session, gateway_sn: str, flight_id: str, *, settings: Settings, secret_key: str
) -> dict[str, Any] | None:
    """The ``flighttask_resource_get`` answer: a new link to the task's KMZ, its MD5."""
    task = FlightRepository(session).task_by_flight(gateway_sn, flight_id)
    if task is None or task.state in ENDED:
        return None
    sortie = session.get(Sortie, task.sortie_id)
    if sortie is None:
        return None
    kmz = kmz_link.kmz_of(session, sortie)
    url = kmz_link.url(settings, secret_key, sortie_id=sortie.id, flight_id=task.flight_id)
    return {"file": {"url": url, "fingerprint": kmz.fingerprint}}


def kmz_for_link(
    session: Session, secret_key: str, token: str, *, settings: Settings
) -> kmz_link.KmzFile:
    """The KMZ a signed link names, while its task has not ended."""
    sortie_id, flight_id = kmz_link.check(secret_key, token, max_age_s=settings.dji_kmz_link_ttl_s)
    task = FlightRepository(session).task_of(sortie_id)
    sortie = session.get(Sortie, sortie_id)
    if task is None or sortie is None or task.flight_id != flight_id or task.state in ENDED:
        raise kmz_link.KmzLinkInvalid("no such route file")
    return kmz_link.kmz_of(session, sortie)


# --- a dock lost in flight ------------------------------------------------------------------


def flag_offline(session: Session, sns: list[str], *, why: str, now: datetime) -> list[int]:
    """Flag the flying sorties of these gateways or aircraft and alert their operators (the
    sortie's own, else the district's): dock flights once per task, hand-launched (Pilot 2)
    sorties once per sortie. Returns the sortie ids flagged."""
    repo = FlightRepository(session)
    flagged: list[int] = []
    for task in repo.flying_tasks_of(sns, [s.value for s in FLYING]):
        if task.offline_at is not None:
            continue
        sortie = repo.sortie(task.sortie_id, for_update=True)
        if sortie is None:
            continue
        task.offline_at = now
        _flag_offline(
            session, repo, sortie, task.gateway_sn, task.aircraft_sn, task.flight_id, why, now
        )
        flagged.append(sortie.id)
    for sortie_id, gateway_sn, aircraft_sn in repo.hand_launched_flying_of(sns):
        sortie = repo.sortie(sortie_id, for_update=True)
        if sortie is None or str(SortieEventKind.dock_offline) in sortie.violations:
            continue
        _flag_offline(session, repo, sortie, gateway_sn, aircraft_sn, None, why, now)
        flagged.append(sortie.id)
    session.flush()
    return flagged


def _flag_offline(
    session: Session,
    repo: FlightRepository,
    sortie: Sortie,
    gateway_sn: str,
    aircraft_sn: str,
    flight_id: str | None,
    why: str,
    now: datetime,
) -> None:
    """The sortie's ``dock_offline`` event and violation, and the operators' alert."""
    kind = "dock" if flight_id is not None else "controller"
    detail = f"{kind} {gateway_sn} / aircraft {aircraft_sn} offline in flight: {why}"
    sortie_service.add_event(
        session,
        sortie,
        SortieEventKind.dock_offline,
        detail,
        at=now,
        data={"gateway_sn": gateway_sn, "aircraft_sn": aircraft_sn, "why": why},
    )
    sortie.violations = sorted({*sortie.violations, str(SortieEventKind.dock_offline)})
    path = repo.station_path(sortie.station_id)
    district = jurisdiction_service.district_of(session, path)
    if sortie.operator_id is not None:
        users = [sortie.operator_id]
    else:
        users = [u.id for u in repo.operators_under(district.path)]
    payload = {
        "event": "dock.offline",
        "sortie_id": sortie.id,
        "station_id": sortie.station_id,
        "drone_id": sortie.drone_id,
        "gateway_sn": gateway_sn,
        "aircraft_sn": aircraft_sn,
        "flight_id": flight_id,
        "why": why,
        "lon": sortie.last_lon,
        "lat": sortie.last_lat,
        "at": now.isoformat(),
    }
    for user_id in users:
        alert_service.enqueue(
            session,
            kind=AlertKind.dock_offline,
            jurisdiction=district,
            payload=payload,
            user_id=user_id,
            now=now,
        )


# --- operators: read, pause, resume, recall -------------------------------------------------


class Command(StrEnum):
    pause = "flighttask_pause"
    resume = "flighttask_recovery"
    return_home = "return_home"


def _visible_task(
    session: Session, principal: Principal, sortie_id: int, *, lock: bool = False
) -> tuple[Sortie, DjiFlightTask]:
    sortie = sortie_service.get(session, principal, sortie_id, lock=lock)
    task = FlightRepository(session).task_of(sortie.id, for_update=lock)
    if task is None:
        raise NotADockFlight(
            f"sortie {sortie.id} is not flown by a dock as a flight task; pause, resume and "
            "recall are for dock flights (a Pilot 2 flight is controlled on the remote)"
        )
    return sortie, task


def get(session: Session, principal: Principal, sortie_id: int) -> DjiFlightTask:
    return _visible_task(session, principal, sortie_id)[1]


def command_order(
    session: Session, principal: Principal, sortie_id: int, command: Command
) -> Order:
    """The service for an operator's command, after checking the sortie can take it."""
    sortie, task = _visible_task(session, principal, sortie_id)
    if task.state not in (TaskState.airborne, TaskState.returning) or sortie.status not in (
        SortieStatus.airborne,
        SortieStatus.returning,
    ):
        raise DockFlightNotAirborne(
            f"sortie {sortie.id} is {sortie.status} (task {task.state}); {command.name} needs "
            "the aircraft airborne on its flight task"
        )
    if command is Command.pause and task.paused:
        raise DockFlightNotAirborne(f"sortie {sortie.id} is paused already")
    if command is Command.resume and not task.paused:
        raise DockFlightNotAirborne(f"sortie {sortie.id} is not paused")
    if command is Command.return_home and task.state == TaskState.returning:
        raise DockFlightNotAirborne(f"sortie {sortie.id} is returning already")
    return Order(sortie.id, task.gateway_sn, command.value, {})


def record_command(
    session: Session,
    principal: Principal,
    sortie_id: int,
    command: Command,
    *,
    result: int,
    now: datetime,
) -> DjiFlightTask:
    """Audit the command and what the dock answered; a recall the dock took turns the
    sortie home, a pause or resume it took marks the task at once."""
    # The bridge may have applied progress while the dock answered: read both again.
    session.expire_all()
    sortie, task = _visible_task(session, principal, sortie_id, lock=True)
    audit_service.record(
        session,
        action=f"dji_{command.name}",
        resource_type="sorties",
        resource_id=sortie.id,
        jurisdiction_id=sortie.station_id,
        detail={"flight_id": task.flight_id, "gateway_sn": task.gateway_sn, "result": result},
    )
    label = command.name.replace("_", " ")
    if result != 0:
        sortie_service.add_event(
            session,
            sortie,
            SortieEventKind.dock_task,
            f"{label} refused by the dock (DJI code {result})",
            at=now,
            data={"command": command.value, "result": result, "by": principal.actor_name},
        )
    elif command is Command.return_home:
        task.state = TaskState.returning
        task.paused = False
        _move(
            session, sortie, SortieStatus.returning, f"recalled by {principal.actor_name}", now=now
        )
    else:
        task.paused = command is Command.pause
        sortie_service.add_event(
            session,
            sortie,
            SortieEventKind.dock_task,
            f"{label} by {principal.actor_name}",
            at=now,
            data={"command": command.value, "paused": task.paused, "by": principal.actor_name},
        )
    session.flush()
    return task
