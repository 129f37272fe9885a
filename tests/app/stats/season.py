"""A hand-counted season: the figures in ``test_service.py`` are counted from this list.

Times are UTC; Asia/Shanghai is UTC+8, so 16:00Z is local midnight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.drone.models import Drone
from app.incident.models import Incident, IncidentState, Outcome
from app.jurisdiction.models import Jurisdiction
from app.mission.models import Mission
from app.referral.models import (
    FollowUpTask,
    Person,
    Referral,
    ReferralStatus,
    TaskKind,
    TaskStatus,
)
from app.schedule.models import PatrolOperation
from app.sighting.models import Sighting
from app.sortie.models import Sortie, SortieStatus
from app.waterway.models import Waterway
from tests.factories import World

HOT_SPOT = (106.2605, 29.2975)  # 东门滨江沙滩 on the demo Yangtze reach
ELSEWHERE = (106.2520, 29.2990)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Season:
    waterway: int
    degan_station: int
    incidents: dict[str, int]


def make_incident(
    session: Session,
    *,
    station_id: int,
    district_id: int,
    detected_at: datetime,
    waterway_id: int | None,
    people: int = 1,
    state: IncidentState = IncidentState.resolved,
    outcome: Outcome | None = None,
    warned_after_s: float | None = None,
    escalated_after_s: float | None = None,
    dispatched_after_s: float | None = None,
    acknowledged_after_s: float | None = None,
    on_scene_after_s: float | None = None,
    lon: float = ELSEWHERE[0],
    lat: float = ELSEWHERE[1],
) -> Incident:
    def after(seconds: float | None) -> datetime | None:
        return detected_at + timedelta(seconds=seconds) if seconds is not None else None

    incident = Incident(
        station_id=station_id,
        district_id=district_id,
        waterway_id=waterway_id,
        state=state,
        outcome=outcome,
        lon=lon,
        lat=lat,
        first_seen_at=detected_at,
        last_seen_at=detected_at,
        detected_at=detected_at,
        people_count=people,
        warned_at=after(warned_after_s),
        escalated_at=after(escalated_after_s),
        dispatched_at=after(dispatched_after_s),
        acknowledged_at=after(acknowledged_after_s),
        on_scene_at=after(on_scene_after_s),
        resolved_at=after(3600) if state is IncidentState.resolved else None,
    )
    session.add(incident)
    session.flush()
    return incident


def make_sighting(
    session: Session,
    incident: Incident,
    *,
    seen_at: datetime,
    people: int = 1,
    deep: bool = False,
    minor: bool = False,
    where: tuple[float, float] = ELSEWHERE,
) -> Sighting:
    sighting = Sighting(
        client_id=f"season-{incident.id}-{seen_at.timestamp():.0f}-{people}",
        incident_id=incident.id,
        station_id=incident.station_id,
        lon=where[0],
        lat=where[1],
        seen_at=seen_at,
        people_count=people,
        is_deep_water=deep,
        is_suspected_minor=minor,
        reported_by="test",
        reporter_key="test",
    )
    session.add(sighting)
    session.flush()
    return sighting


def make_referral(
    session: Session,
    incident: Incident,
    *,
    community_id: int,
    is_minor: bool,
    done: bool,
    created_at: datetime,
    task_due_at: datetime | None = None,
) -> Referral:
    person = Person(
        community_id=community_id,
        station_id=incident.station_id,
        reporting_station_id=incident.station_id,
        is_minor=is_minor,
    )
    session.add(person)
    session.flush()
    referral = Referral(
        person_id=person.id,
        incident_id=incident.id,
        station_id=incident.station_id,
        community_id=community_id,
        status=ReferralStatus.done if done else ReferralStatus.open,
        created_by="test",
        created_at=created_at,
        done_at=created_at + timedelta(days=1) if done else None,
    )
    session.add(referral)
    session.flush()
    if task_due_at is not None:
        session.add(
            FollowUpTask(
                referral_id=referral.id,
                kind=TaskKind.guardian_home_visit if is_minor else TaskKind.education_talk,
                jurisdiction_id=community_id,
                due_at=task_due_at,
                status=TaskStatus.done if done else TaskStatus.open,
            )
        )
        session.flush()
    return referral


def make_sortie(
    session: Session,
    *,
    mission: Mission,
    drone_id: int,
    airborne_at: datetime | None,
    minutes: float,
    landed: bool = True,
    operation: PatrolOperation | None = None,
) -> Sortie:
    end = airborne_at + timedelta(minutes=minutes) if airborne_at else None
    sortie = Sortie(
        drone_id=drone_id,
        mission_id=mission.id,
        waterway_id=mission.waterway_id,
        station_id=mission.station_id,
        operation_id=operation.id if operation else None,
        planned_start=airborne_at or utc("2026-07-11T08:00:00"),
        planned_end=end or utc("2026-07-11T09:00:00"),
        status=(SortieStatus.landed if landed else SortieStatus.aborted)
        if airborne_at
        else SortieStatus.planned,
        airborne_at=airborne_at,
        landed_at=end if landed else None,
        aborted_at=None if landed else end,
    )
    session.add(sortie)
    session.flush()
    return sortie


def seed_flights(session: Session, world: World, waterway: int) -> None:
    """Four demo sorties (one across local midnight) and one of the other district."""
    route = {"type": "FeatureCollection", "features": []}
    mission = Mission(
        name="season mission", waterway_id=waterway, station_id=world.demo_station,
        drone_model_id="m30t", pattern="bank", route=route,
        sorties=[{"index": 0, "length_m": 1200.0, "duration_s": 900.0, "waypoints": 0,
                  "route": route}],
        length_m=1200.0, duration_s=900.0,
    )  # fmt: skip
    session.add(mission)
    operation = PatrolOperation(
        name="暑期巡查", jurisdiction_id=world.demo, starts_on=utc("2026-07-01T00:00:00").date()
    )
    session.add(operation)
    session.flush()
    drone = session.scalar(select(Drone.id).where(Drone.station_id == world.demo_station))
    assert drone is not None
    # 23:30 local on 10 July to 00:30 on the 11th: one hour, counted on the 10th.
    make_sortie(
        session,
        mission=mission,
        drone_id=drone,
        airborne_at=utc("2026-07-10T15:30:00"),
        minutes=60,
        operation=operation,
    )
    make_sortie(
        session,
        mission=mission,
        drone_id=drone,
        airborne_at=utc("2026-07-11T04:00:00"),
        minutes=30,
        operation=operation,
    )
    # Aborted after 15 minutes: flight time counts, no route distance.
    make_sortie(
        session,
        mission=mission,
        drone_id=drone,
        airborne_at=utc("2026-07-11T06:00:00"),
        minutes=15,
        landed=False,
    )
    # Booked, never flown.
    make_sortie(session, mission=mission, drone_id=drone, airborne_at=None, minutes=0)
    other = session.get(Mission, world.other_mission)
    assert other is not None
    make_sortie(
        session,
        mission=other,
        drone_id=world.other_drone,
        airborne_at=utc("2026-07-10T05:00:00"),
        minutes=60,
    )


def seed_season(session: Session, world: World) -> Season:
    """Seven incidents; see the module docstring of ``test_service.py`` for the count."""
    degan = session.scalar(select(Jurisdiction.id).where(Jurisdiction.code == "demo-degan"))
    waterway = session.scalar(select(Waterway.id).where(Waterway.name.startswith("长江")))
    assert degan is not None
    assert waterway is not None
    dissuaded = Outcome.dissuaded
    # I1: 12:00 local, warned after 30 s, left: dissuaded from the air (2 people, at the spot).
    i1 = make_incident(
        session,
        station_id=world.demo_station,
        district_id=world.demo,
        detected_at=utc("2026-07-10T04:00:00"),
        waterway_id=waterway,
        people=2,
        outcome=dissuaded,
        warned_after_s=30,
        lon=HOT_SPOT[0],
        lat=HOT_SPOT[1],
    )
    make_sighting(
        session, i1, seen_at=utc("2026-07-10T04:00:00"), people=2, deep=True, where=HOT_SPOT
    )
    # I2: 14:00 local, a unit sent: ack after 200 s, on scene after 600 s, one minor.
    i2 = make_incident(
        session,
        station_id=world.demo_station,
        district_id=world.demo,
        detected_at=utc("2026-07-10T06:00:00"),
        waterway_id=waterway,
        people=2,
        outcome=dissuaded,
        warned_after_s=60,
        escalated_after_s=120,
        dispatched_after_s=130,
        acknowledged_after_s=200,
        on_scene_after_s=600,
    )
    make_sighting(session, i2, seen_at=utc("2026-07-10T06:00:00"), minor=True)
    make_sighting(session, i2, seen_at=utc("2026-07-10T06:05:00"))
    # I3: 18:00 local at Degan, no waterway, escalated but no unit ever came.
    i3 = make_incident(
        session,
        station_id=degan,
        district_id=world.demo,
        detected_at=utc("2026-07-11T10:00:00"),
        waterway_id=None,
        outcome=Outcome.nobody_found,
        warned_after_s=90,
        escalated_after_s=150,
    )
    make_sighting(session, i3, seen_at=utc("2026-07-11T10:00:00"))
    # I4: 23:30 local on 11 July, still open (warned).
    i4 = make_incident(
        session,
        station_id=world.demo_station,
        district_id=world.demo,
        detected_at=utc("2026-07-11T15:30:00"),
        waterway_id=waterway,
        state=IncidentState.warned,
        warned_after_s=45,
    )
    make_sighting(session, i4, seen_at=utc("2026-07-11T15:30:00"))
    # I5: 00:30 local on 12 July (16:30Z on the 11th): the day boundary.
    i5 = make_incident(
        session,
        station_id=world.demo_station,
        district_id=world.demo,
        detected_at=utc("2026-07-11T16:30:00"),
        waterway_id=waterway,
        people=3,
        outcome=dissuaded,
        warned_after_s=20,
    )
    make_sighting(session, i5, seen_at=utc("2026-07-11T16:30:00"), people=3)
    # I6: the other district: never counted for demo users.
    i6 = make_incident(
        session,
        station_id=world.other_station,
        district_id=world.other,
        detected_at=utc("2026-07-10T05:00:00"),
        waterway_id=world.other_waterway,
        people=5,
        outcome=dissuaded,
        warned_after_s=10,
    )
    make_sighting(
        session, i6, seen_at=utc("2026-07-10T05:00:00"), people=5, where=(116.305, 39.905)
    )
    # I7: 23:59 local on 30 June: outside July.
    i7 = make_incident(
        session,
        station_id=world.demo_station,
        district_id=world.demo,
        detected_at=utc("2026-06-30T15:59:00"),
        waterway_id=waterway,
        people=4,
        outcome=dissuaded,
        warned_after_s=5,
    )
    make_sighting(session, i7, seen_at=utc("2026-06-30T15:59:00"), people=4)
    # Referrals: the minor of I2 (home visit overdue since 15 July), an adult of I1 (done).
    make_referral(
        session,
        i2,
        community_id=world.demo_community,
        is_minor=True,
        done=False,
        created_at=utc("2026-07-10T08:00:00"),
        task_due_at=utc("2026-07-15T08:00:00"),
    )
    make_referral(
        session,
        i1,
        community_id=world.demo_community,
        is_minor=False,
        done=True,
        created_at=utc("2026-07-10T07:00:00"),
        task_due_at=utc("2026-07-17T07:00:00"),
    )
    seed_flights(session, world, waterway)
    session.commit()
    ids = {
        "i1": i1.id,
        "i2": i2.id,
        "i3": i3.id,
        "i4": i4.id,
        "i5": i5.id,
        "i6": i6.id,
        "i7": i7.id,
    }
    return Season(waterway=waterway, degan_station=degan, incidents=ids)
