from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.config import Settings
from app.drone import service as drone_service
from app.drone.models import Drone
from app.errors import Conflict, NotFound, Unprocessable
from app.geojson import area_from_geojson
from app.jurisdiction import service as jurisdiction_service
from app.mission import service as mission_service
from app.mission.models import Mission
from app.schedule.models import PatrolOperation, PatrolSchedule
from app.schedule.repository import PatrolOperationRepository, PatrolScheduleRepository
from app.schedule.schemas import (
    ExpandRequest,
    ExpandResult,
    PatrolOperationCreate,
    PatrolScheduleCreate,
)
from app.sortie import service as sortie_service
from app.sortie.models import Sortie
from app.sortie.schemas import SortieRead
from app.waterway import service as waterway_service
from missions import (
    Anchor,
    Booking,
    LonLat,
    PatrolWindow,
    ScheduleError,
    expand,
    own_clashes,
)

MAX_PERIOD = timedelta(days=62)
MAX_LISTED_PROBLEMS = 6


class PatrolOperationNotFound(NotFound):
    pass


class PatrolScheduleNotFound(NotFound):
    pass


class InvalidSchedule(Unprocessable):
    pass


class ScheduleConflict(Conflict):
    """Some sorties of the period cannot be booked; nothing was booked."""


# --- operations ---------------------------------------------------------------------------


def get_operation(session: Session, principal: Principal, operation_id: int) -> PatrolOperation:
    repo = PatrolOperationRepository(session)
    operation = repo.get(operation_id)
    if operation is None or not principal.can_see(repo.path_of(operation.jurisdiction_id)):
        raise PatrolOperationNotFound(f"patrol operation {operation_id} not found")
    return operation


def list_operations(
    session: Session, principal: Principal, *, limit: int, offset: int
) -> tuple[Sequence[PatrolOperation], int]:
    return PatrolOperationRepository(session).list_under(
        principal.jurisdiction_path, limit=limit, offset=offset
    )


def create_operation(
    session: Session, principal: Principal, data: PatrolOperationCreate
) -> PatrolOperation:
    jurisdiction = jurisdiction_service.get_for_assignment(session, principal, data.jurisdiction_id)
    if data.ends_on is not None and data.ends_on < data.starts_on:
        raise InvalidSchedule("an operation cannot end before it starts")
    return PatrolOperationRepository(session).add(
        PatrolOperation(
            name=data.name,
            jurisdiction_id=jurisdiction.id,
            starts_on=data.starts_on,
            ends_on=data.ends_on,
            notes=data.notes,
            created_by_id=principal.id if principal.kind == "user" else None,
        )
    )


# --- schedules ----------------------------------------------------------------------------


def get(session: Session, principal: Principal, schedule_id: int) -> PatrolSchedule:
    repo = PatrolScheduleRepository(session)
    schedule = repo.get(schedule_id)
    path = PatrolOperationRepository(session).path_of(schedule.station_id) if schedule else ""
    if schedule is None or not principal.can_see(path):
        raise PatrolScheduleNotFound(f"patrol schedule {schedule_id} not found")
    return schedule


def list_visible(
    session: Session, principal: Principal, *, waterway_id: int | None, limit: int, offset: int
) -> tuple[Sequence[PatrolSchedule], int]:
    return PatrolScheduleRepository(session).list_under(
        principal.jurisdiction_path, waterway_id=waterway_id, limit=limit, offset=offset
    )


def _check_own_slots(
    session: Session,
    principal: Principal,
    mission: Mission,
    data: PatrolScheduleCreate,
    *,
    settings: Settings,
) -> None:
    """Refuse a schedule whose own sorties collide on its first two days: one drone cannot
    fly a sortie that starts before the previous one has landed (and, when the schedule
    names its drone, had the turnaround to swap batteries). Named in local time."""
    durations = [sortie_service.duration_of(mission, i) for i in range(len(mission.sorties))]
    waterway = waterway_service.get(session, principal, mission.waterway_id)
    centre = area_from_geojson(waterway.area).representative_point()
    first = datetime.combine(data.starts_on, time(0), tzinfo=settings.zone)
    try:
        window = PatrolWindow(
            data.rrule,
            Anchor.parse(data.window_start),
            Anchor.parse(data.window_end),
            every_s=data.interval_s,
            sortie_s=max(durations).total_seconds(),
            needs_thermal=data.needs_thermal,
        )
        slots = expand(
            window,
            first_day=data.starts_on,
            period_start=first,
            period_end=first + timedelta(days=2),
            position=LonLat(centre.x, centre.y),
            zone=settings.zone,
        )
    except (ValueError, ScheduleError) as exc:
        raise InvalidSchedule(str(exc)) from exc
    turnaround_s = settings.sortie_turnaround_s if data.drone_id is not None else 0
    clashes = own_clashes(slots, turnaround_s=turnaround_s)
    if not clashes:
        return
    a, b = clashes[0]
    zone = settings.zone
    needed = (a.end - a.start).total_seconds() + turnaround_s
    raise InvalidSchedule(
        f"the schedule's own sorties collide: {_local_span(a.start, a.end, zone)} and "
        f"{_local_span(b.start, b.end, zone)}; a sortie every {data.interval_s / 60:g} min "
        f"needs at least {math.ceil(needed / 60)} min between starts"
        + (" (the sortie plus the turnaround to swap batteries)" if turnaround_s else "")
    )


def _local_span(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    a, b = start.astimezone(zone), end.astimezone(zone)
    fmt = "%H:%M:%S" if a.second or b.second else "%H:%M"
    return f"{a:%Y-%m-%d} {a.strftime(fmt)}-{b.strftime(fmt)} {a.tzname()}"


def create(
    session: Session, principal: Principal, data: PatrolScheduleCreate, *, settings: Settings
) -> PatrolSchedule:
    mission = mission_service.get(session, principal, data.mission_id)
    if not mission.sorties:
        raise InvalidSchedule(f"mission {mission.id} has no sortie to fly")
    if data.operation_id is not None:
        get_operation(session, principal, data.operation_id)
    if data.drone_id is not None:
        drone = drone_service.get(session, principal, data.drone_id)
        if drone.station_id != mission.station_id:
            raise InvalidSchedule(f"drone {drone.name!r} is not of the mission's station")
    _check_own_slots(session, principal, mission, data, settings=settings)
    return PatrolScheduleRepository(session).add(
        PatrolSchedule(
            name=data.name,
            mission_id=mission.id,
            waterway_id=mission.waterway_id,
            station_id=mission.station_id,
            operation_id=data.operation_id,
            drone_id=data.drone_id,
            rrule=data.rrule,
            starts_on=data.starts_on,
            window_start=data.window_start,
            window_end=data.window_end,
            every_s=data.interval_s,
            needs_thermal=data.needs_thermal,
            needs_speaker=data.needs_speaker,
            created_by_id=principal.id if principal.kind == "user" else None,
        )
    )


def _candidates(session: Session, principal: Principal, schedule: PatrolSchedule) -> list[Drone]:
    if schedule.drone_id is not None:
        return [drone_service.get(session, principal, schedule.drone_id)]
    drones, _ = drone_service.list_visible(session, principal, limit=500, offset=0)
    return [d for d in drones if d.station_id == schedule.station_id]


def expand_schedule(
    session: Session,
    principal: Principal,
    schedule_id: int,
    data: ExpandRequest,
    *,
    settings: Settings,
    now: datetime,
) -> ExpandResult:
    """Book the schedule's sorties in ``[since, until)``: all of them, or none (409)."""
    schedule = get(session, principal, schedule_id)
    if data.until <= data.since or data.until - data.since > MAX_PERIOD:
        raise InvalidSchedule("expand a period longer than 0 and at most 62 days")
    mission = mission_service.get(session, principal, schedule.mission_id)
    waterway = waterway_service.get(session, principal, schedule.waterway_id)
    centre = area_from_geojson(waterway.area).representative_point()
    durations = [sortie_service.duration_of(mission, i) for i in range(len(mission.sorties))]
    try:
        window = PatrolWindow(
            schedule.rrule,
            Anchor.parse(schedule.window_start),
            Anchor.parse(schedule.window_end),
            every_s=schedule.every_s,
            sortie_s=max(durations).total_seconds(),
            needs_thermal=schedule.needs_thermal,
        )
        first = datetime.combine(schedule.starts_on, time(0), tzinfo=settings.zone)
        slots = expand(
            window,
            first_day=schedule.starts_on,
            period_start=max(data.since, first),
            period_end=data.until,
            position=LonLat(centre.x, centre.y),
            zone=settings.zone,
        )
    except (ValueError, ScheduleError) as exc:
        raise InvalidSchedule(str(exc)) from exc
    candidates = _candidates(session, principal, schedule)
    # Before reading what is booked: a concurrent booking or expansion of these drones waits
    # until this one commits (two expansions of one schedule, too).
    sortie_service.lock_drones(session, candidates)
    booked = sortie_service.scheduled_starts(session, schedule.id)
    pending: list[Booking] = []
    plan: list[tuple[Drone, int, datetime, datetime, bool]] = []
    problems: list[str] = []
    skipped = 0
    for index, slot in enumerate(slots):
        if slot.start in booked:
            skipped += 1
            continue
        route_index = index % len(mission.sorties)
        end = slot.start + durations[route_index]
        local = slot.start.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
        airspace = sortie_service.airspace_problems(
            session,
            waterway=waterway,
            mission=mission,
            route_index=route_index,
            start=slot.start,
            end=end,
        )
        if airspace:
            problems.extend(f"{local}: {p}" for p in airspace)
            continue
        why: list[str] = []
        chosen = None
        for drone in candidates:
            found = sortie_service.booking_problems(
                session,
                drone=drone,
                start=slot.start,
                end=end,
                needs_thermal=slot.needs_thermal,
                needs_speaker=schedule.needs_speaker,
                pending=pending,
                turnaround_s=settings.sortie_turnaround_s,
                mission=mission,
                route_index=route_index,
                zone=settings.zone,
            )
            if not found:
                chosen = drone
                break
            why.extend(found)
        if chosen is None:
            problems.append(f"{local}: " + ("; ".join(why) or "the station has no drone"))
            continue
        pending.append(Booking(chosen.id, slot.start, end, f"this schedule at {local}"))
        plan.append((chosen, route_index, slot.start, end, slot.needs_thermal))
    if problems:
        shown = " | ".join(problems[:MAX_LISTED_PROBLEMS])
        more = len(problems) - MAX_LISTED_PROBLEMS
        raise ScheduleConflict(
            f"{len(problems)} of {len(slots)} sorties cannot be booked, nothing was booked: "
            + shown
            + (f" | and {more} more" if more > 0 else "")
        )
    created: list[Sortie] = [
        sortie_service.new_sortie(
            session,
            drone=drone,
            mission=mission,
            route_index=route_index,
            start=start,
            end=end,
            needs_thermal=thermal,
            needs_speaker=schedule.needs_speaker,
            operation_id=schedule.operation_id,
            schedule_id=schedule.id,
            operator_id=None,
            now=now,
        )
        for drone, route_index, start, end, thermal in plan
    ]
    return ExpandResult(
        schedule_id=schedule.id,
        created=[SortieRead.model_validate(s) for s in created],
        already_booked=skipped,
    )
