"""Telemetry of a flying sortie: live samples and SRT uploads, stored once and checked for
conformance (route, no-fly zones, altitude, battery) in time order; the no-telemetry sweep."""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.config import Settings
from app.mission.models import Mission
from app.sortie import live
from app.sortie.conformance import (
    Airspace,
    Breach,
    Fix,
    Limits,
    check,
    median_distance_from_route_m,
)
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
from detection import SrtParseError, SrtReport, parse_srt_report
from missions import NoFlyZone

# Conformance geometry per sortie, kept a short while: a batch arrives every 200 ms per drone
# and rebuilding it each time would cost more than storing the samples. A no-fly zone created
# or lifted during a flight applies to conformance within AIRSPACE_TTL_S.
AIRSPACE_TTL_S = 30.0
_AIRSPACE_CACHE: OrderedDict[tuple[Any, ...], tuple[float, Airspace | None]] = OrderedDict()
_AIRSPACE_CACHE_SIZE = 512
_AIRSPACE_LOCK = threading.Lock()
MAX_DAMAGE_LISTED = 20
_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$")


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


# Conformance kinds re-derived when late telemetry arrives (telemetry_lost is the sweep's:
# it is about wall-clock silence, not about the samples).
CONFORMANCE_KINDS = (
    SortieEventKind.off_route,
    SortieEventKind.no_fly_zone,
    SortieEventKind.altitude,
    SortieEventKind.battery,
)
_CONFORMANCE_KIND_NAMES = frozenset(str(k) for k in CONFORMANCE_KINDS)


def _on_route(sortie: FlyingSortie, at: datetime) -> bool:
    """Whether the route corridor applies to a sample at ``at``: once the sortie is airborne,
    until it turned home (a sample stamped a little before take-off is checked too: the
    drone's clock and the operator's "airborne" differ by seconds)."""
    if sortie.airborne_at is None:
        return False
    return sortie.returning_at is None or at < sortie.returning_at


def _conformance(
    session: Session,
    sortie: FlyingSortie,
    samples: Sequence[Sample],
    *,
    settings: Settings,
    active: set[str],
) -> tuple[list[str], list[SortieEvent]]:
    """Check samples in time order from the breaches ``active`` before the first: the
    breaches active after them, and an event for each breach that starts or clears. Reads
    only: the caller writes the events and the sortie's last position after it."""
    events: list[SortieEvent] = []
    airspace = _airspace(session, sortie)
    if airspace is None:
        return sorted(active), events
    limits = _limits(settings)
    for sample in samples:
        fix = Fix(sample.at, sample.lon, sample.lat, sample.alt_m, sample.battery_pct)
        breaches: dict[str, Breach] = {
            str(b.kind): b
            for b in check(fix, airspace, limits, on_route=_on_route(sortie, sample.at))
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


def _active_before(events: Sequence[SortieEvent]) -> set[str]:
    """Replay conformance events (in time order) into the breaches active after them."""
    active: set[str] = set()
    for event in events:
        if event.kind == SortieEventKind.cleared:
            active.discard(str(event.data.get("cleared", "")))
        elif str(event.kind) in _CONFORMANCE_KIND_NAMES:
            active.add(str(event.kind))
    return active


def _rederive(
    session: Session, sortie: FlyingSortie, *, since: datetime, settings: Settings
) -> tuple[list[str], list[SortieEvent]]:
    """Late samples: derive the conformance events from ``since`` again, in time order.

    The events from ``since`` on are replaced, starting from the state the earlier events
    left, so a batch that arrives late or out of order gives the same events as if every
    sample had arrived in time."""
    repo = SortieRepository(session)
    kinds = [*(str(k) for k in CONFORMANCE_KINDS), str(SortieEventKind.cleared)]
    stale = [
        e
        for e in repo.events_from(sortie.id, since, kinds)
        if e.kind != SortieEventKind.cleared
        or str(e.data.get("cleared", "")) in _CONFORMANCE_KIND_NAMES
    ]
    repo.delete_events(stale)
    active = _active_before(repo.events_before(sortie.id, since, kinds))
    stored = [
        Sample(
            at=r.at,
            lon=r.lon,
            lat=r.lat,
            alt_m=r.alt_m,
            amsl_m=r.amsl_m,
            heading_deg=r.heading_deg,
            speed_mps=r.speed_mps,
            battery_pct=r.battery_pct,
        )
        for r in repo.samples_of(sortie.id, since=since)
    ]
    return _conformance(session, sortie, stored, settings=settings, active=active)


def _store(
    session: Session,
    sortie: FlyingSortie,
    samples: Sequence[Sample],
    *,
    settings: Settings,
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
    events: list[SortieEvent] = []
    if SortieEventKind.telemetry_lost in sortie.violations:
        events.append(
            _new_event(
                sortie,
                SortieEventKind.cleared,
                "telemetry back",
                at=min(
                    (s.at for s in new if last_at is None or s.at > last_at), default=new[-1].at
                ),
                data={"cleared": "telemetry_lost"},
            )
        )
    if last_at is not None and new[0].at < last_at:
        violations, derived = _rederive(session, sortie, since=new[0].at, settings=settings)
    else:
        active = {k for k in sortie.violations if k != SortieEventKind.telemetry_lost}
        violations, derived = _conformance(session, sortie, new, settings=settings, active=active)
    events.extend(derived)
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


def flight_window(
    sortie: FlyingSortie, *, settings: Settings, now: datetime
) -> tuple[datetime, datetime]:
    """The times a sample of this sortie can have: from pre-flight (less the clock slack) to
    landing or abort (plus the slack), or to ``now`` plus the live tolerance while it flies."""
    slack = timedelta(seconds=settings.telemetry_clock_slack_s)
    began = sortie.preflight_at or sortie.airborne_at or sortie.created_at
    ended = sortie.landed_at or sortie.aborted_at
    if ended is not None:
        return began - slack, ended + slack
    return began - slack, now + timedelta(seconds=settings.telemetry_max_ahead_s)


def _local(at: datetime, zone: tzinfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z").strip()


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
    earliest, latest = flight_window(sortie, settings=settings, now=now)
    for index, sample in enumerate(samples):
        if sample.at > latest:
            raise InvalidTelemetry(f"sample {index}: time {sample.at.isoformat()} is in the future")
        if sample.at < earliest:
            raise InvalidTelemetry(
                f"sample {index}: time {sample.at.isoformat()} is before sortie {sortie.id} "
                f"began ({_local(earliest, settings.zone)} with the clock slack); "
                "nothing was stored"
            )
    converted = [Sample(**(s.model_dump() | {"at": s.at.astimezone(UTC)})) for s in samples]
    return _store(session, sortie, converted, settings=settings)


def srt_zone(name: str | None, default: ZoneInfo) -> tzinfo:
    """The zone of an SRT file's clock: an IANA name (``Pacific/Auckland``), a UTC offset
    (``+12:00``, ``-0330``, ``UTC+8``), or the service's zone when none is given."""
    if name is None or not name.strip():
        return default
    text = name.strip()
    match = _OFFSET.match(text.upper())
    if match is not None:
        sign = -1 if match.group(1) == "-" else 1
        hours, minutes = int(match.group(2)), int(match.group(3) or 0)
        if hours <= 14 and minutes < 60:
            return timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidSrtFile(
            f"zone {text!r} is neither an IANA time zone (e.g. Asia/Shanghai) nor a UTC "
            "offset (e.g. +08:00)"
        ) from exc


def _srt_samples(
    report: SrtReport, filename: str, *, started_at: datetime | None, zone: tzinfo
) -> list[Sample]:
    samples = []
    for cue in report.samples:
        if cue.lon_deg is None or cue.lat_deg is None:
            continue
        if cue.recorded_at is not None:
            recorded = cue.recorded_at
            at = (recorded if recorded.tzinfo else recorded.replace(tzinfo=zone)).astimezone(UTC)
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


def _check_srt_belongs(
    session: Session,
    sortie: FlyingSortie,
    samples: Sequence[Sample],
    filename: str,
    *,
    settings: Settings,
    zone: tzinfo,
    now: datetime,
) -> None:
    """Refuse a file whose clock lies outside the sortie's flight or whose track is far from
    its route: merging it would rewrite the flight log with another flight."""
    earliest, latest = flight_window(sortie, settings=settings, now=now)
    first, last = samples[0].at, samples[-1].at
    if first < earliest or last > latest:
        raise InvalidSrtFile(
            f"{filename}: its clock runs from {_local(first, zone)} to {_local(last, zone)}, "
            f"outside sortie {sortie.id}'s flight ({_local(earliest, zone)} to "
            f"{_local(latest, zone)}, with {settings.telemetry_clock_slack_s:g} s of clock "
            "slack); if the drone's clock was set to another zone, send zone= with the file"
        )
    airspace = _airspace(session, sortie)
    if airspace is None:
        return
    off_m = median_distance_from_route_m(airspace, [(s.lon, s.lat) for s in samples])
    if off_m is not None and off_m > settings.srt_max_route_distance_m:
        raise InvalidSrtFile(
            f"{filename}: its track is a median {_distance(off_m)} from sortie {sortie.id}'s "
            f"route (at most {settings.srt_max_route_distance_m:g} m): it was not flown on "
            "this sortie"
        )


def _distance(metres: float) -> str:
    return f"{metres / 1000:,.1f} km" if metres >= 10_000 else f"{metres:,.0f} m"


def upload_srt(
    session: Session,
    principal: Principal,
    sortie_id: int,
    *,
    filename: str,
    data: bytes,
    started_at: datetime | None,
    zone: str | None = None,
    settings: Settings,
    now: datetime,
) -> TelemetryAccepted:
    sortie = _telemetry_target(session, principal, sortie_id)
    if sortie.status == SortieStatus.planned:
        raise SortieNotFlying(f"sortie {sortie.id} has not started; nothing was flown yet")
    if len(data) > MAX_SRT_BYTES:
        raise InvalidSrtFile(f"{filename}: larger than {MAX_SRT_BYTES // (1024 * 1024)} MiB")
    clock_zone = srt_zone(zone, settings.zone)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidSrtFile(f"{filename}: not UTF-8 text (byte {exc.start})") from exc
    try:
        report = parse_srt_report(text)
    except SrtParseError as exc:
        raise InvalidSrtFile(f"{filename}: {exc}") from exc
    samples = sorted(
        _srt_samples(report, filename, started_at=started_at, zone=clock_zone),
        key=lambda s: s.at,
    )
    _check_srt_belongs(
        session, sortie, samples, filename, settings=settings, zone=clock_zone, now=now
    )
    accepted = _store(session, sortie, samples, settings=settings)
    return accepted.model_copy(
        update={
            "no_fix": report.no_fix,
            "damaged": [str(d) for d in report.damaged[:MAX_DAMAGE_LISTED]],
            "damaged_count": len(report.damaged),
        }
    )


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
