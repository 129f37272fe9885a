"""Telemetry of a flying sortie: live samples and SRT uploads, stored once and checked for
conformance (route, no-fly zones, altitude, battery) in time order; the no-telemetry sweep."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.config import Settings
from app.mission.models import Mission
from app.sortie import live
from app.sortie.conformance import Airspace, Breach, Fix, Limits, check
from app.sortie.models import SortieEvent, SortieEventKind, SortieStatus
from app.sortie.repository import FlyingSortie, SortieRepository
from app.sortie.schemas import TelemetryAccepted, TelemetryIn
from app.sortie.service import (
    MAX_SRT_BYTES,
    TAKES_TELEMETRY,
    InvalidSortie,
    InvalidSrtFile,
    InvalidTelemetry,
    NotYourSortie,
    Sample,
    SortieNotFlying,
    SortieNotFound,
    add_event,
    route_for,
)
from app.waterway import service as waterway_service
from app.waterway.models import Waterway
from detection import SrtParseError, parse_srt
from missions import NoFlyZone

# Conformance geometry per sortie, kept a short while: a batch arrives every 200 ms per drone
# and rebuilding it each time would cost more than storing the samples. A no-fly zone created
# or lifted during a flight applies to conformance within AIRSPACE_TTL_S.
AIRSPACE_TTL_S = 30.0
_AIRSPACE_CACHE: OrderedDict[tuple[Any, ...], tuple[float, Airspace | None]] = OrderedDict()
_AIRSPACE_CACHE_SIZE = 512
_AIRSPACE_LOCK = threading.Lock()


def _build_airspace(session: Session, sortie: FlyingSortie) -> Airspace | None:
    mission = session.get(Mission, sortie.mission_id)
    waterway = session.get(Waterway, sortie.waterway_id)
    if mission is None or waterway is None:
        return None
    zones: list[NoFlyZone] = waterway_service.no_fly_zones_for(session, waterway, at=None)
    try:
        route = route_for(mission, sortie.route_index)
    except InvalidSortie:
        return None
    return Airspace.build(route, zones)


def _airspace(session: Session, sortie: FlyingSortie) -> Airspace | None:
    key = (sortie.id, sortie.created_at, sortie.mission_id, sortie.route_index)
    now = time.monotonic()
    with _AIRSPACE_LOCK:
        cached = _AIRSPACE_CACHE.get(key)
        if cached is not None and cached[0] > now:
            _AIRSPACE_CACHE.move_to_end(key)
            return cached[1]
    built = _build_airspace(session, sortie)
    with _AIRSPACE_LOCK:
        _AIRSPACE_CACHE[key] = (now + AIRSPACE_TTL_S, built)
        _AIRSPACE_CACHE.move_to_end(key)
        while len(_AIRSPACE_CACHE) > _AIRSPACE_CACHE_SIZE:
            _AIRSPACE_CACHE.popitem(last=False)
    return built


def _limits(settings: Settings) -> Limits:
    return Limits(
        off_route_m=settings.conformance_off_route_m,
        ceiling_m=settings.altitude_ceiling_m,
        return_battery_pct=settings.return_battery_pct,
    )


def _new_event(
    sortie: FlyingSortie, kind: SortieEventKind, detail: str, *, at: datetime, data: dict[str, Any]
) -> SortieEvent:
    return SortieEvent(
        sortie_id=sortie.id,
        station_id=sortie.station_id,
        kind=kind,
        at=at,
        detail=detail[:300],
        data=data,
    )


def _conformance(
    session: Session,
    sortie: FlyingSortie,
    samples: Sequence[Sample],
    *,
    settings: Settings,
    on_route: bool,
) -> tuple[list[str], list[SortieEvent]]:
    """Check new samples in time order: the breaches active after them, and an event for
    each breach that starts or clears. Reads only: the caller writes the events and the
    sortie's last position after it."""
    events: list[SortieEvent] = []
    active = {k for k in sortie.violations if k != SortieEventKind.telemetry_lost}
    if SortieEventKind.telemetry_lost in sortie.violations:
        events.append(
            _new_event(
                sortie,
                SortieEventKind.cleared,
                "telemetry back",
                at=samples[0].at,
                data={"cleared": "telemetry_lost"},
            )
        )
    airspace = _airspace(session, sortie)
    if airspace is None:
        return sorted(active), events
    limits = _limits(settings)
    for sample in samples:
        fix = Fix(sample.at, sample.lon, sample.lat, sample.alt_m, sample.battery_pct)
        breaches: dict[str, Breach] = {
            str(b.kind): b for b in check(fix, airspace, limits, on_route=on_route)
        }
        position = {"lon": sample.lon, "lat": sample.lat, "alt_m": sample.alt_m}
        for kind in sorted(breaches.keys() - active):
            events.append(
                _new_event(
                    sortie,
                    SortieEventKind(kind),
                    breaches[kind].detail,
                    at=sample.at,
                    data=position,
                )
            )
        for kind in sorted(active - breaches.keys()):
            events.append(
                _new_event(
                    sortie,
                    SortieEventKind.cleared,
                    f"{kind} cleared",
                    at=sample.at,
                    data={"cleared": kind, **position},
                )
            )
        active = set(breaches)
    return sorted(active), events


def _store(
    session: Session,
    sortie: FlyingSortie,
    samples: Sequence[Sample],
    *,
    settings: Settings,
    on_route: bool,
) -> TelemetryAccepted:
    """Store the samples not stored yet and check them, in time order.

    One ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` stores the new samples and says which
    they were (idempotent by drone and time, no separate duplicate check); conformance then
    runs over those only, from the sortie's active breaches. The checks are pure CPU over the
    cached airspace (well under a millisecond a batch), so the SQLite write lock the insert
    takes is still held only briefly."""
    repo = SortieRepository(session)
    by_time: dict[datetime, Sample] = {}
    for sample in samples:
        by_time[sample.at] = sample
    ordered = [by_time[t] for t in sorted(by_time)]
    stored = repo.insert_new_samples(
        [
            {
                "sortie_id": sortie.id,
                "drone_id": sortie.drone_id,
                "at": s.at,
                "lon": s.lon,
                "lat": s.lat,
                "alt_m": s.alt_m,
                "amsl_m": s.amsl_m,
                "heading_deg": s.heading_deg,
                "speed_mps": s.speed_mps,
                "battery_pct": s.battery_pct,
                "gimbal_pitch_deg": s.gimbal_pitch_deg,
                "gimbal_yaw_deg": s.gimbal_yaw_deg,
                "gimbal_roll_deg": s.gimbal_roll_deg,
            }
            for s in ordered
        ]
    )
    new = [s for s in ordered if s.at in stored]
    violations = list(sortie.violations)
    last_at = sortie.last_telemetry_at
    if not new:
        return TelemetryAccepted(
            sortie_id=sortie.id,
            accepted=0,
            duplicates=len(samples),
            last_telemetry_at=last_at,
            violations=violations,
        )
    violations, events = _conformance(session, sortie, new, settings=settings, on_route=on_route)
    values: dict[str, Any] = {}
    if violations != list(sortie.violations):
        values["violations"] = violations
    newest = new[-1]
    if last_at is None or newest.at > last_at:
        last_at = newest.at
        values |= {
            "last_lon": newest.lon,
            "last_lat": newest.lat,
            "last_alt_m": newest.alt_m,
            "last_battery_pct": newest.battery_pct,
            "last_telemetry_at": newest.at,
        }
    repo.set_last(sortie.id, values)
    session.add_all(events)
    live.mark(session)
    return TelemetryAccepted(
        sortie_id=sortie.id,
        accepted=len(new),
        duplicates=len(samples) - len(new),
        last_telemetry_at=last_at,
        violations=violations,
    )


def _telemetry_target(session: Session, principal: Principal, sortie_id: int) -> FlyingSortie:
    sortie = SortieRepository(session).flying_sortie(sortie_id)
    if sortie is None or not principal.can_see(sortie.station_path):
        raise SortieNotFound(f"sortie {sortie_id} not found")
    if principal.kind == "device" and principal.jurisdiction_id != sortie.station_id:
        raise NotYourSortie("this device token is not bound to the drone's station")
    return sortie


def ingest(
    session: Session,
    principal: Principal,
    sortie_id: int,
    samples: Sequence[TelemetryIn],
    *,
    settings: Settings,
    now: datetime,
) -> TelemetryAccepted:
    sortie = _telemetry_target(session, principal, sortie_id)
    if sortie.status not in TAKES_TELEMETRY:
        raise SortieNotFlying(
            f"sortie {sortie.id} is {sortie.status}; live telemetry is taken in preflight, "
            "airborne and returning"
        )
    ahead = now + timedelta(seconds=settings.telemetry_max_ahead_s)
    for index, sample in enumerate(samples):
        if sample.at > ahead:
            raise InvalidTelemetry(f"sample {index}: time {sample.at.isoformat()} is in the future")
    converted = [Sample(**(s.model_dump() | {"at": s.at.astimezone(UTC)})) for s in samples]
    return _store(
        session,
        sortie,
        converted,
        settings=settings,
        on_route=sortie.status == SortieStatus.airborne,
    )


def _srt_samples(
    text: str, filename: str, *, started_at: datetime | None, zone: ZoneInfo
) -> list[Sample]:
    try:
        parsed = parse_srt(text)
    except SrtParseError as exc:
        raise InvalidSrtFile(f"{filename}: {exc}") from exc
    samples = []
    for cue in parsed:
        if cue.lon_deg is None or cue.lat_deg is None:
            continue
        if cue.recorded_at is not None:
            at = cue.recorded_at.replace(tzinfo=zone).astimezone(UTC)
        elif started_at is not None:
            at = (started_at + timedelta(seconds=cue.t_s)).astimezone(UTC)
        else:
            raise InvalidSrtFile(
                f"{filename}: line {cue.line_no}: the file carries no clock time; "
                "send started_at (UTC) with it"
            )
        samples.append(
            Sample(
                at=at,
                lon=cue.lon_deg,
                lat=cue.lat_deg,
                alt_m=cue.rel_alt_m,
                amsl_m=cue.abs_alt_m,
                heading_deg=cue.drone_yaw_deg,
                gimbal_pitch_deg=cue.gimbal_pitch_deg,
                gimbal_yaw_deg=cue.gimbal_yaw_deg,
                gimbal_roll_deg=cue.gimbal_roll_deg,
            )
        )
    if not samples:
        raise InvalidSrtFile(f"{filename}: no cue has a GPS position")
    return samples


def upload_srt(
    session: Session,
    principal: Principal,
    sortie_id: int,
    *,
    filename: str,
    data: bytes,
    started_at: datetime | None,
    settings: Settings,
) -> TelemetryAccepted:
    sortie = _telemetry_target(session, principal, sortie_id)
    if sortie.status == SortieStatus.planned:
        raise SortieNotFlying(f"sortie {sortie.id} has not started; nothing was flown yet")
    if len(data) > MAX_SRT_BYTES:
        raise InvalidSrtFile(f"{filename}: larger than {MAX_SRT_BYTES // (1024 * 1024)} MiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidSrtFile(f"{filename}: not UTF-8 text (byte {exc.start})") from exc
    samples = _srt_samples(text, filename, started_at=started_at, zone=settings.zone)
    return _store(session, sortie, samples, settings=settings, on_route=True)


def sweep_silent(session: Session, *, now: datetime, silence_s: float) -> int:
    """Flag flying sorties that sent nothing for ``silence_s``; returns how many were flagged."""
    flagged = 0
    for sortie in SortieRepository(session).silent_since(now - timedelta(seconds=silence_s)):
        if SortieEventKind.telemetry_lost in sortie.violations:
            continue
        last = sortie.last_telemetry_at or sortie.airborne_at
        add_event(
            session,
            sortie,
            SortieEventKind.telemetry_lost,
            f"no telemetry for {(now - last).total_seconds():.0f} s" if last else "no telemetry",
            at=now,
        )
        sortie.violations = sorted({*sortie.violations, str(SortieEventKind.telemetry_lost)})
        flagged += 1
    session.flush()
    return flagged
