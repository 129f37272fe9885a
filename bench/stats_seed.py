"""Synthetic season data for the statistics benchmark and for looking at the dashboard.

``populate(session, sightings=..., incidents=..., sorties=...)`` bulk-inserts a summer of
incidents, sightings, dispatch times, referrals and sorties on the demo district's
waterways, with a fixed seed. Run on a scratch database only:

    python bench/stats_seed.py --url sqlite:////tmp/wg/db.sqlite3 --incidents 400
"""

from __future__ import annotations

import argparse
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

import app.models  # noqa: F401  (every table, for foreign keys)
from app.db import make_engine, make_sessionmaker
from app.drone.models import Drone
from app.incident.models import Incident, IncidentState, Outcome, Severity
from app.jurisdiction.models import Jurisdiction
from app.mission.models import Mission
from app.referral.models import FollowUpTask, Person, Referral, ReferralStatus, TaskKind, TaskStatus
from app.schedule.models import PatrolOperation
from app.sighting.models import Sighting
from app.sortie.models import Sortie, SortieStatus
from app.waterway.models import Waterway

# Afternoons and evenings of a hot summer (local hours, weights).
HOUR_WEIGHTS = [0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 3, 4, 6, 8, 10, 11, 12, 12, 11, 9, 6, 3, 1, 1]
LOCAL_OFFSET = timedelta(hours=8)
CHUNK = 5_000


def _bulk(session: Session, model: type[Any], rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(model), rows[start : start + CHUNK])


def _missions(session: Session, waterways: list[Waterway]) -> list[Mission]:
    route = {"type": "FeatureCollection", "features": []}
    missions = []
    for waterway in waterways:
        mission = session.scalar(select(Mission).where(Mission.waterway_id == waterway.id))
        if mission is None:
            length = 4_000.0
            mission = Mission(
                name=f"{waterway.name.split(' ')[0]} 定时巡查",
                waterway_id=waterway.id,
                station_id=waterway.station_id,
                drone_model_id="m30t",
                pattern="bank",
                route=route,
                sorties=[{"index": 0, "length_m": length, "duration_s": 1_200.0,
                          "waypoints": 0, "route": route}],
                length_m=length,
                duration_s=1_200.0,
            )  # fmt: skip
            session.add(mission)
        missions.append(mission)
    session.flush()
    return missions


def populate(
    session: Session,
    *,
    sightings: int,
    incidents: int,
    sorties: int,
    season: tuple[date, date] = (date(2026, 6, 1), date(2026, 9, 30)),
    seed: int = 7,
    until: datetime | None = None,
) -> None:
    rng = random.Random(seed)
    waterways = list(session.scalars(select(Waterway).order_by(Waterway.id)))
    district = session.scalar(select(Jurisdiction).where(Jurisdiction.code == "demo"))
    assert district is not None, "seed the demo district first"
    assert waterways, "seed the demo district first"
    communities = {
        j.parent_id: j.id
        for j in session.scalars(select(Jurisdiction).where(Jurisdiction.kind == "community"))
    }
    drones = {d.station_id: d.id for d in session.scalars(select(Drone))}
    days = (season[1] - season[0]).days + 1
    latest = until or datetime.now(UTC)

    def moment() -> datetime:
        day = season[0] + timedelta(days=rng.randrange(days))
        hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
        local = datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60))
        at = (local - LOCAL_OFFSET).replace(tzinfo=UTC)
        return min(at, latest - timedelta(minutes=5))

    def place(waterway: Waterway) -> tuple[float, float]:
        spots = waterway.hot_spots or waterway.launch_points
        if spots and rng.random() < 0.7:
            spot = rng.choice(spots)
            return spot["lon"] + rng.gauss(0, 0.0007), spot["lat"] + rng.gauss(0, 0.0004)
        ring = waterway.area["coordinates"][0]
        if waterway.area["type"] == "MultiPolygon":
            ring = ring[0]
        lon, lat = rng.choice(ring)
        return lon, lat

    first_id = (session.scalar(select(Incident.id).order_by(Incident.id.desc()).limit(1)) or 0) + 1
    incident_rows: list[dict[str, Any]] = []
    sighting_rows: list[dict[str, Any]] = []
    per_incident = max(1, sightings // max(1, incidents))
    extra = sightings - per_incident * incidents
    for index in range(incidents):
        waterway = rng.choice(waterways) if rng.random() > 0.05 else None
        station_id = waterway.station_id if waterway else rng.choice(waterways).station_id
        detected = moment()
        lon, lat = place(waterway or waterways[0])
        people = rng.choices([1, 2, 3, 4], weights=[50, 30, 15, 5])[0]
        escalated = rng.random() < 0.3
        outcome = rng.choices(list(Outcome), weights=[70, 5, 15, 10])[0]
        is_open = detected > latest - timedelta(hours=2) and rng.random() < 0.5
        warned = detected + timedelta(seconds=rng.uniform(15, 180))
        row: dict[str, Any] = {
            "id": first_id + index, "station_id": station_id, "district_id": district.id,
            "waterway_id": waterway.id if waterway else None, "severity": Severity.moderate,
            "lon": lon, "lat": lat, "first_seen_at": detected, "last_seen_at": detected,
            "detected_at": detected, "people_count": people, "sighting_count": per_incident,
            "has_deep_water": rng.random() < 0.4, "has_suspected_minor": rng.random() < 0.2,
            "warning_count": 1, "warned_at": warned, "last_warned_at": warned,
            "state": IncidentState.warned if is_open else IncidentState.resolved,
            "outcome": None if is_open else outcome, "version": 1,
        }  # fmt: skip
        if escalated and not is_open:
            row["escalated_at"] = warned + timedelta(seconds=rng.uniform(60, 240))
            row["dispatched_at"] = row["escalated_at"] + timedelta(seconds=5)
            if rng.random() < 0.9:  # some escalations never reach a unit
                row["acknowledged_at"] = row["dispatched_at"] + timedelta(
                    seconds=rng.uniform(20, 300)
                )
                row["on_scene_at"] = row["acknowledged_at"] + timedelta(
                    seconds=rng.uniform(240, 1200)
                )
        if not is_open:
            row["resolved_at"] = detected + timedelta(minutes=rng.uniform(5, 40))
        incident_rows.append(row)
        count = per_incident + (1 if index < extra else 0)
        for track in range(count):
            sighting_rows.append({
                "client_id": f"bench-{first_id + index}-{track}", "incident_id": first_id + index,
                "station_id": station_id, "track_id": track,
                "lon": lon + rng.gauss(0, 0.0001), "lat": lat + rng.gauss(0, 0.0001),
                "seen_at": detected + timedelta(seconds=track * 7),
                "people_count": rng.choices([1, 2, 3], weights=[80, 15, 5])[0],
                "is_deep_water": row["has_deep_water"],
                "is_suspected_minor": row["has_suspected_minor"] and track == 0,
                "has_left_water": False, "confidence": 0.8, "reported_by": "bench",
            })  # fmt: skip
    _bulk(session, Incident, incident_rows)
    _bulk(session, Sighting, sighting_rows)

    person_rows: list[dict[str, Any]] = []
    referral_rows: list[dict[str, Any]] = []
    task_rows: list[dict[str, Any]] = []
    first_person = (session.scalar(select(Person.id).order_by(Person.id.desc()).limit(1)) or 0) + 1
    first_referral = (
        session.scalar(select(Referral.id).order_by(Referral.id.desc()).limit(1)) or 0
    ) + 1
    for number, row in enumerate(r for r in incident_rows if r["id"] % 10 == 0):
        person_id, referral_id = first_person + number, first_referral + number
        community = communities.get(row["station_id"], row["station_id"])
        minor = bool(row["has_suspected_minor"])
        done = rng.random() < 0.75
        created = row["detected_at"] + timedelta(hours=2)
        person_rows.append({"id": person_id, "community_id": community,
                            "station_id": row["station_id"],
                            "reporting_station_id": row["station_id"], "is_minor": minor,
                            "created_at": created})  # fmt: skip
        referral_rows.append({"id": referral_id, "person_id": person_id,
                              "incident_id": row["id"], "station_id": row["station_id"],
                              "community_id": community, "created_by": "bench",
                              "status": ReferralStatus.done if done else ReferralStatus.open,
                              "created_at": created,
                              "done_at": (created + timedelta(days=2)) if done else None,
                              })  # fmt: skip
        kind = TaskKind.guardian_home_visit if minor else TaskKind.education_talk
        task_rows.append({"referral_id": referral_id, "kind": kind,
                          "jurisdiction_id": community, "due_at": created + timedelta(days=7),
                          "status": TaskStatus.done if done else TaskStatus.open})  # fmt: skip
    _bulk(session, Person, person_rows)
    _bulk(session, Referral, referral_rows)
    _bulk(session, FollowUpTask, task_rows)

    if sorties:
        missions = _missions(session, waterways)
        operations = []
        for week in range(0, days, 7):
            operation = PatrolOperation(
                name=f"暑期巡查第{week // 7 + 1}周",
                jurisdiction_id=district.id,
                starts_on=season[0] + timedelta(days=week),
            )
            session.add(operation)
            operations.append(operation)
        session.flush()
        sortie_rows = []
        for _ in range(sorties):
            mission = rng.choice(missions)
            start = moment()
            minutes = rng.uniform(15, 35)
            end = start + timedelta(minutes=minutes)
            week = (
                min((start + LOCAL_OFFSET).date().toordinal() - season[0].toordinal(), days - 1)
                // 7
            )
            sortie_rows.append({
                "drone_id": drones.get(mission.station_id) or next(iter(drones.values())),
                "mission_id": mission.id, "route_index": 0, "waterway_id": mission.waterway_id,
                "station_id": mission.station_id,
                "operation_id": operations[max(0, week)].id if rng.random() < 0.8 else None,
                "planned_start": start, "planned_end": end, "status": SortieStatus.landed,
                "airborne_at": start, "landed_at": end, "preflight_checks": [], "violations": [],
            })  # fmt: skip
        _bulk(session, Sortie, sortie_rows)
    session.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of a scratch database")
    parser.add_argument("--incidents", type=int, default=400)
    parser.add_argument("--sightings", type=int, default=0, help="default: 2 per incident")
    parser.add_argument("--sorties", type=int, default=300)
    args = parser.parse_args()
    engine = make_engine(args.url)
    with make_sessionmaker(engine)() as session:
        populate(
            session,
            incidents=args.incidents,
            sightings=args.sightings or args.incidents * 2,
            sorties=args.sorties,
        )
        session.commit()
    print(f"added {args.incidents} incidents to {args.url}")


if __name__ == "__main__":
    main()
