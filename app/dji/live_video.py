"""A dock flight's live video, on the database side: when the aircraft is airborne the
bridge asks it to push its stream (``live_start_push``), and once it pushes, a stream
detection job reads the stream back from the media server, so people it finds go through
the same sighting ingest as uploads; when the flight ends the push is stopped
(``live_stop_push``) and the job with it.

The live runner (``app.dji.live_runner``) calls these functions on the bridge's database
thread and sends the services; the state is on the flight task (``live_*`` columns), so a
restarted bridge carries on where it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.detection_job import service as job_service
from app.dji import live
from app.dji.flight import ENDED, TaskState
from app.dji.flight_repository import FlightRepository
from app.dji.live import LiveState
from app.dji.models import DjiFlightTask
from app.incident.grouping import is_night
from app.sortie import service as sortie_service
from app.sortie.models import SortieEventKind, SortieStatus

#: Sorties whose stream is read (a recalled aircraft still films on the way back).
STREAMING = (SortieStatus.airborne, SortieStatus.returning)


@dataclass(frozen=True, slots=True)
class LiveOrder:
    """A live service the runner sends for a sortie."""

    sortie_id: int
    gateway_sn: str
    method: str
    data: dict[str, Any]
    lens: str | None = None  # for live_start_push: the lens to switch to once it pushes


def _num(values: dict[str, Any], key: str) -> float | None:
    value = values.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def night_at(where: dict[str, Any], at: datetime, zone: ZoneInfo) -> bool:
    """Dark at the dock (its OSD position), between dusk and dawn; day when unknown."""
    lon, lat = _num(where, "longitude"), _num(where, "latitude")
    if lon is None or lat is None or not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return False
    return is_night(lon, lat, at, zone)


def starts_due(session: Session, *, settings: Settings) -> list[int]:
    """Sorties whose aircraft is airborne and whose live video is not asked for yet."""
    if not settings.dji_live_push_url:
        return []
    rows = session.scalars(
        select(DjiFlightTask.sortie_id).where(
            DjiFlightTask.state == TaskState.airborne,
            DjiFlightTask.live_state.is_(None),
            DjiFlightTask.live_attempts < settings.dji_live_attempts,
        )
    )
    return list(rows)


def forget_unanswered(session: Session) -> int:
    """At the bridge's start: pushes asked for by a bridge that stopped before the answer
    came (``starting``) are asked for again (a try is counted; the aircraft answers a
    repeated push like the first). Returns how many."""
    tasks = session.scalars(
        select(DjiFlightTask).where(DjiFlightTask.live_state == LiveState.starting)
    ).all()
    for task in tasks:
        task.live_state = None
    session.flush()
    return len(tasks)


def stops_due(session: Session) -> list[int]:
    """Sorties whose flight ended (or was recalled to the end) while their video is pushed."""
    rows = session.scalars(
        select(DjiFlightTask.sortie_id).where(
            DjiFlightTask.live_state == LiveState.pushing,
            DjiFlightTask.state.in_([str(s) for s in ENDED]),
        )
    )
    return list(rows)


def devices_of(session: Session, sortie_id: int) -> tuple[str, str] | None:
    """The sortie's dock and aircraft serial numbers."""
    task = FlightRepository(session).task_of(sortie_id)
    return (task.gateway_sn, task.aircraft_sn) if task is not None else None


def _note(session: Session, sortie_id: int, en: str, *, now: datetime, **data: Any) -> None:
    sortie = FlightRepository(session).sortie(sortie_id)
    if sortie is not None:
        sortie_service.add_event(
            session, sortie, SortieEventKind.dock_task, en, at=now, data={"live": True, **data}
        )


def _give_up_or_retry(
    session: Session, task: DjiFlightTask, en: str, *, settings: Settings, now: datetime
) -> None:
    task.live_reason = en[:300]
    if task.live_attempts >= settings.dji_live_attempts:
        task.live_state = LiveState.failed
        _note(session, task.sortie_id, f"live video failed: {en}", now=now, reason=en)
    else:
        task.live_state = None  # tried again on the next pass


def begin_start(
    session: Session,
    sortie_id: int,
    *,
    dock: dict[str, Any],
    aircraft: dict[str, Any],
    night: bool,
    settings: Settings,
    now: datetime,
) -> LiveOrder | None:
    """Mark one try and build its ``live_start_push``; ``None`` when nothing is to send."""
    task = FlightRepository(session).task_of(sortie_id, for_update=True)
    if (
        task is None
        or task.state != TaskState.airborne
        or task.live_state is not None
        or task.live_attempts >= settings.dji_live_attempts
        or not settings.dji_live_push_url
    ):
        return None
    task.live_attempts += 1
    video = live.video_of(task.aircraft_sn, dock, aircraft)
    if video is None:
        _give_up_or_retry(
            session,
            task,
            "the dock reports no live_capacity for its aircraft",
            settings=settings,
            now=now,
        )
        session.flush()
        return None
    url = live.stream_url(
        settings.dji_live_push_url, aircraft_sn=task.aircraft_sn, flight_id=task.flight_id
    )
    task.live_state = LiveState.starting
    task.live_video_id = video.video_id
    session.flush()
    return LiveOrder(
        sortie_id,
        task.gateway_sn,
        live.LiveMethod.start_push,
        live.start_data(
            video, url=url, url_type=settings.dji_live_url_type, quality=settings.dji_live_quality
        ),
        lens=live.lens_for(video, night=night),
    )


def record_start(
    session: Session,
    sortie_id: int,
    result: int | None,
    *,
    settings: Settings,
    now: datetime,
) -> int | None:
    """The aircraft's answer to ``live_start_push`` (``None``: none after every resend). On
    success the stream detection job is created; its id is returned."""
    repo = FlightRepository(session)
    task = repo.task_of(sortie_id, for_update=True)
    if task is None or task.live_state != LiveState.starting:
        return None
    if result != 0:
        why = (
            "the aircraft did not answer live_start_push"
            if result is None
            else f"the aircraft refused live_start_push: DJI code {result}"
        )
        _give_up_or_retry(session, task, why, settings=settings, now=now)
        session.flush()
        return None
    task.live_state = LiveState.pushing
    task.live_reason = None
    sortie = repo.sortie(sortie_id, for_update=True)
    play = settings.dji_live_play_url or settings.dji_live_push_url
    url = live.stream_url(play, aircraft_sn=task.aircraft_sn, flight_id=task.flight_id)
    job_id: int | None = None
    if sortie is not None and sortie.status in STREAMING:
        job = job_service.create_dock_stream(session, sortie, url, settings=settings, now=now)
        task.live_job_id = job_id = job.id
    _note(
        session,
        sortie_id,
        f"live video started ({task.live_video_id}); detection job {job_id}",
        now=now,
        video_id=task.live_video_id,
        detection_job_id=job_id,
    )
    session.flush()
    return job_id


def record_lens(
    session: Session, sortie_id: int, lens: str, result: int | None, *, now: datetime
) -> None:
    task = FlightRepository(session).task_of(sortie_id, for_update=True)
    if task is None:
        return
    if result == 0:
        task.live_lens = lens
        _note(session, sortie_id, f"live video lens: {lens}", now=now, lens=lens)
    else:
        why = "no answer" if result is None else f"DJI code {result}"
        _note(
            session,
            sortie_id,
            f"live video lens {lens} not set ({why})",
            now=now,
            lens=lens,
            result=result,
        )
    session.flush()


def begin_stop(session: Session, sortie_id: int, *, now: datetime) -> LiveOrder | None:
    """Stop the push of an ended flight. Its stream detection job ends by itself when the
    sortie lands or is aborted, with what it found (``detection_job.service.stop_reason``)."""
    task = FlightRepository(session).task_of(sortie_id, for_update=True)
    if task is None or task.live_state != LiveState.pushing or task.state not in ENDED:
        return None
    task.live_state = LiveState.stopped
    _note(session, sortie_id, "live video stopped", now=now, video_id=task.live_video_id)
    session.flush()
    if task.live_video_id is None:
        return None
    return LiveOrder(
        sortie_id, task.gateway_sn, live.LiveMethod.stop_push, live.stop_data(task.live_video_id)
    )
