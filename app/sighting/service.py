from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.auth.principal import Principal
from app.errors import Conflict, Unprocessable
from app.incident import grouping
from app.incident import service as incident_service
from app.incident.models import Incident
from app.jurisdiction import service as jurisdiction_service
from app.jurisdiction.models import Jurisdiction
from app.sighting.models import Sighting, SightingPlace
from app.sighting.repository import SightingRepository
from app.sighting.schemas import SightingCreate
from app.waterway import service as waterway_service

MAX_AGE = timedelta(hours=24)
MAX_AHEAD = timedelta(minutes=5)


class SightingTimeRefused(Unprocessable):
    pass


class SightingIdReused(Conflict):
    """The caller sent a client_id it used before, with different facts. Keys are the
    caller's own (scoped to its reporter key), so this never concerns another reporter."""


class SightingRaced(Conflict):
    """The same reporter's same ``client_id`` was stored by a concurrent request between
    this one's lookup and its insert (a drone's retry racing its first try). The caller's
    transaction is spoilt; the HTTP path retries the whole ingest, which then answers the
    replay or ``SightingIdReused``."""


# A sighting is a fact: a request that lost one of these races is retried from a clean
# transaction rather than refused (see ``app.sighting.router``). A stale incident write can
# surface from any autoflush of the grouping, not only through ``incident_service.flush``.
RACES: tuple[type[Exception], ...] = (
    SightingRaced,
    incident_service.IncidentChangedConcurrently,
    StaleDataError,
)


def _is_replay(existing: Sighting, data: SightingCreate) -> bool:
    """The same facts as the stored sighting (``jurisdiction_id`` routed the first one and is
    not stored: the stored sighting says where it went)."""
    return (
        existing.lon == data.lon
        and existing.lat == data.lat
        and existing.seen_at == data.seen_at
        and existing.people_count == data.people_count
        # The server marks a sighting in a deep-water zone deep whatever the client said.
        and existing.is_deep_water == (data.is_deep_water or bool(existing.is_in_deep_zone))
        and existing.is_suspected_minor == data.is_suspected_minor
        and existing.has_left_water == data.has_left_water
        and existing.confidence == data.confidence
        and existing.sortie_ref == data.sortie_ref
        and existing.track_id == data.track_id
    )


class SightingOutsideDistrict(Unprocessable):
    pass


class SightingTrack(NamedTuple):
    """One person seen over a span (a sighting's track), for counting who was together."""

    key: tuple[str, str, int] | int
    start: datetime
    end: datetime
    people: int


def most_together(tracks: Sequence[SightingTrack]) -> int:
    """The most people seen at one moment: spans of one track merged, overlapping spans of
    different tracks summed (a sweep over start and end times).

    >>> from datetime import UTC
    >>> t = datetime(2026, 7, 1, tzinfo=UTC)
    >>> s = timedelta(seconds=1)
    >>> most_together([SightingTrack(i, t, t + 10 * s, 1) for i in range(7)])
    7
    >>> most_together([SightingTrack(1, t, t + s, 3), SightingTrack(2, t + 2 * s, t + 3 * s, 2)])
    3
    """
    merged: dict[tuple[str, str, int] | int, SightingTrack] = {}
    for track in tracks:
        seen = merged.get(track.key)
        merged[track.key] = (
            track
            if seen is None
            else SightingTrack(
                track.key,
                min(seen.start, track.start),
                max(seen.end, track.end),
                max(seen.people, track.people),
            )
        )
    # (time, 0 = start before 1 = end at the same moment, change)
    edges = sorted(
        [(t.start, 0, t.people) for t in merged.values()]
        + [(t.end, 1, -t.people) for t in merged.values()]
    )
    best = now = 0
    for _, _, change in edges:
        now += change
        best = max(best, now)
    return best


def _track(sighting: Sighting) -> SightingTrack:
    key: tuple[str, str, int] | int = (
        (sighting.reported_by, sighting.sortie_ref or "", sighting.track_id)
        if sighting.track_id is not None
        else sighting.id
    )
    start = sighting.first_seen_at or sighting.seen_at
    return SightingTrack(key, min(start, sighting.seen_at), sighting.seen_at, sighting.people_count)


def _check_times(data: SightingCreate, now: datetime) -> None:
    if data.seen_at.tzinfo is None:
        raise SightingTimeRefused("seen_at must carry a time zone (UTC)")
    if data.seen_at > now + MAX_AHEAD or data.seen_at < now - MAX_AGE:
        raise SightingTimeRefused(f"seen_at {data.seen_at.isoformat()} is too far from now")
    first = data.first_seen_at
    if first is not None:
        if first.tzinfo is None:
            raise SightingTimeRefused("first_seen_at must carry a time zone (UTC)")
        if first > data.seen_at or first < now - MAX_AGE:
            raise SightingTimeRefused("first_seen_at must be before seen_at and within 24 h")


def is_live(seen_at: datetime, now: datetime) -> bool:
    """Whether a sighting at ``seen_at`` is within the live window (``MAX_AGE``) of now."""
    return seen_at >= now - MAX_AGE


def _check_review_times(data: SightingCreate, now: datetime) -> None:
    """Old footage: not in the future, a span that ends at ``seen_at``; no age limit."""
    if data.seen_at.tzinfo is None:
        raise SightingTimeRefused("seen_at must carry a time zone (UTC)")
    if data.seen_at > now + MAX_AHEAD:
        raise SightingTimeRefused(f"seen_at {data.seen_at.isoformat()} is in the future")
    first = data.first_seen_at
    if first is not None and (first.tzinfo is None or first > data.seen_at):
        raise SightingTimeRefused("first_seen_at must carry a time zone and be before seen_at")


def _owning_station(
    session: Session,
    principal: Principal,
    data: SightingCreate,
    *,
    district: Jurisdiction,
    here: waterway_service.WaterPlace,
) -> Jurisdiction:
    """The station of the water where the people are (whoever reports it), else the station
    of the district whose boundary holds them, else the reporter's own. (A station the
    reporter names with ``jurisdiction_id`` is taken before this.)"""
    if here.waterway is not None:
        station = jurisdiction_service.district_station(session, district, here.waterway.station_id)
        if station is not None:
            return station
    covering = jurisdiction_service.stations_covering(
        session, district.path, lon=data.lon, lat=data.lat
    )
    if covering:
        return covering[0]
    return grouping.owning_station(
        session, principal, lon=data.lon, lat=data.lat, jurisdiction_id=None
    )


def ingest(
    session: Session,
    principal: Principal,
    data: SightingCreate,
    *,
    now: datetime,
    distance_limit_m: float,
    window_s: int,
    zone: ZoneInfo,
    shore_tolerance_m: float = 15.0,
    live: bool = True,
) -> tuple[Sighting, bool]:
    """Store a sighting, placed on the district's registered water, and group it into an
    incident when it is in the water. Returns (sighting, created).

    ``live=False`` stores a sighting from footage older than the live window for review:
    placed like any other, marked ``is_live=False``, never grouped into an incident (nobody
    is sent to a person seen days ago).

    ``client_id`` is the reporter's idempotency key, scoped to ``principal.reporter_key``:
    the same key with the same facts answers the stored sighting; with other facts, 409.
    """
    if data.seen_at.tzinfo is None:
        raise SightingTimeRefused("seen_at must carry a time zone (UTC)")
    repo = SightingRepository(session)
    existing = repo.get_by_client_id(principal.reporter_key, data.client_id)
    if existing is not None:
        if not _is_replay(existing, data):
            raise SightingIdReused(
                f"client_id {data.client_id!r} was already used for a different sighting; "
                "a new sighting needs a new client_id"
            )
        return existing, False
    if live:
        _check_times(data, now)
    else:
        _check_review_times(data, now)
    named = (
        None
        if data.jurisdiction_id is None
        else grouping.owning_station(
            session, principal, lon=data.lon, lat=data.lat, jurisdiction_id=data.jurisdiction_id
        )
    )
    district = jurisdiction_service.district_of(session, principal.jurisdiction_path)
    here = waterway_service.place_of(
        session,
        district_path=district.path,
        lon=data.lon,
        lat=data.lat,
        shore_tolerance_m=shore_tolerance_m,
    )
    inside = jurisdiction_service.covers(session, district.path, lon=data.lon, lat=data.lat)
    if inside is False and here.waterway is None:
        raise SightingOutsideDistrict(
            f"({data.lon}, {data.lat}) is outside every jurisdiction of {district.name_en}"
        )
    station = named or _owning_station(session, principal, data, district=district, here=here)
    place = SightingPlace(here.place)
    in_water = place in {SightingPlace.water, SightingPlace.unknown}
    device_key = principal.reporter_key if principal.kind == "device" else None
    facts = grouping.SightingFacts(
        lon=data.lon,
        lat=data.lat,
        seen_at=data.seen_at,
        people_count=data.people_count,
        is_deep_water=data.is_deep_water or here.is_in_deep_zone,
        is_suspected_minor=data.is_suspected_minor,
        has_left_water=data.has_left_water,
        waterway_id=here.waterway.id if here.waterway is not None else None,
    )
    incident: Incident | None = None
    # In the water it joins or opens an incident; seen on the bank after leaving the water,
    # it may only clear an open incident nearby.
    if live and (in_water or data.has_left_water):
        incident = grouping.attach_sighting(
            session,
            station=station,
            facts=facts,
            actor=principal.actor_name,
            now=now,
            distance_limit_m=distance_limit_m,
            window_s=window_s,
            zone=zone,
            may_open=in_water,
            device_key=device_key,
        )
    sighting = _add_once(
        repo,
        Sighting(
            client_id=data.client_id,
            incident_id=incident.id if incident is not None else None,
            station_id=incident.station_id if incident is not None else station.id,
            sortie_ref=data.sortie_ref,
            track_id=data.track_id,
            lon=data.lon,
            lat=data.lat,
            seen_at=data.seen_at,
            first_seen_at=data.first_seen_at,
            people_count=data.people_count,
            is_deep_water=facts.is_deep_water,
            is_suspected_minor=data.is_suspected_minor,
            has_left_water=data.has_left_water,
            confidence=data.confidence,
            is_live=live,
            reported_by=principal.actor_name,
            reporter_key=principal.reporter_key,
            place=place,
            waterway_id=facts.waterway_id,
            is_in_deep_zone=here.is_in_deep_zone,
            hot_spot=here.hot_spot,
        ),
    )
    if incident is not None and in_water:
        in_water_rows = [
            s
            for s in repo.of_incident(incident.id)
            if s.place in {SightingPlace.water, SightingPlace.unknown}
        ]
        together = most_together([_track(s) for s in in_water_rows])
        grouping.seen_together(
            session, incident, people=together, actor=principal.actor_name, now=now
        )
    return sighting, True


def _add_once(repo: SightingRepository, sighting: Sighting) -> Sighting:
    try:
        return repo.add(sighting)
    except IntegrityError as exc:
        if "client_id" not in str(exc.orig):
            raise
        raise SightingRaced(
            f"client_id {sighting.client_id!r} was stored by a concurrent request; retry"
        ) from exc


def reported_by(session: Session, reporter_key: str, sighting_id: int) -> Sighting | None:
    """A sighting if ``reporter_key`` reported it (a detection job finding its own rows)."""
    row = SightingRepository(session).get(sighting_id)
    return row if row is not None and row.reporter_key == reporter_key else None


def list_visible(
    session: Session,
    principal: Principal,
    *,
    place: SightingPlace | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Sighting], int]:
    """The sightings the caller may see, bank and land ones included (they have no incident)."""
    return SightingRepository(session).list_under(
        principal.jurisdiction_path, place=place, limit=limit, offset=offset
    )


def of_incident(session: Session, principal: Principal, incident_id: int) -> Sequence[Sighting]:
    incident = incident_service.get(session, principal, incident_id)
    return SightingRepository(session).of_incident(incident.id)
