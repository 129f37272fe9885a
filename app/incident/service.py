"""Incidents: the enforced lifecycle with a timestamp per state, the timeline, warnings,
and the moves of the people who respond. Dispatch and the escalation ladder are the
``app.dispatch`` feature: this module hands it the incident's facts and records what it did.
Grouping sightings is ``grouping.py``, evidence ``evidence.py``, CAP ``cap_export.py``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.auth.principal import Principal
from app.dispatch import service as dispatch_service
from app.dispatch.models import Dispatch, DispatchState
from app.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.incident import events
from app.incident.models import (
    OPEN_STATES,
    TRANSITIONS,
    Incident,
    IncidentEvent,
    IncidentState,
    IncidentWarning,
    Severity,
)
from app.incident.repository import IncidentRepository
from app.incident.schemas import ResolveBody, WarningCreate
from app.warnings import library as warning_messages

SYSTEM_ACTOR = "system:worker"
# States in which nobody has been sent yet: the first-response timer runs.
WAITING_STATES = frozenset({IncidentState.detected, IncidentState.warned})

# Kept here for callers that catch it from the incident feature.
NotDispatchedToYou = dispatch_service.NotDispatchedToYou


class IncidentNotFound(NotFound):
    pass


class IncidentTransitionRefused(Conflict):
    pass


class IncidentChangedConcurrently(Conflict):
    pass


class IncidentOutcomeConflict(Conflict):
    pass


class UnknownWarningMessage(Unprocessable):
    pass


def district_id_of(path: str) -> int:
    return int(path.strip("/").split("/")[0])


# Reading


def visible(session: Session, principal: Principal, incident: Incident) -> bool:
    station = IncidentRepository(session).jurisdiction(incident.station_id)
    if station is not None and principal.can_see(station.path):
        return True
    unit_id = principal.ground_unit_id
    return unit_id is not None and dispatch_service.is_dispatched_to(session, incident.id, unit_id)


def get(session: Session, principal: Principal, incident_id: int) -> Incident:
    incident = IncidentRepository(session).get(incident_id)
    if incident is None or not visible(session, principal, incident):
        raise IncidentNotFound(f"incident {incident_id} not found")
    return incident


def list_visible(
    session: Session,
    principal: Principal,
    *,
    state: IncidentState | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Incident], int]:
    return IncidentRepository(session).list_under(
        principal.jurisdiction_path,
        unit_id=principal.ground_unit_id,
        state=state,
        limit=limit,
        offset=offset,
    )


def timeline(session: Session, principal: Principal, incident_id: int) -> Sequence[IncidentEvent]:
    incident = get(session, principal, incident_id)
    return IncidentRepository(session).events(incident.id)


def warnings_of(
    session: Session, principal: Principal, incident_id: int
) -> Sequence[IncidentWarning]:
    incident = get(session, principal, incident_id)
    return IncidentRepository(session).warnings(incident.id)


def dispatches_of(session: Session, principal: Principal, incident_id: int) -> Sequence[Dispatch]:
    incident = get(session, principal, incident_id)
    return dispatch_service.of_incident(session, incident.id)


# Lifecycle


def log_event(
    session: Session,
    incident: Incident,
    kind: str,
    *,
    actor: str,
    now: datetime,
    from_state: IncidentState | None = None,
    to_state: IncidentState | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    IncidentRepository(session).add(
        IncidentEvent(
            incident_id=incident.id,
            at=now,
            kind=kind,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            detail=detail,
        )
    )


def move(
    session: Session,
    incident: Incident,
    to: IncidentState,
    *,
    actor: str,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    current = IncidentState(incident.state)
    if to not in TRANSITIONS[current]:
        raise IncidentTransitionRefused(f"incident {incident.id} cannot go from {current} to {to}")
    incident.state = to
    if to not in WAITING_STATES:
        incident.response_due_at = None
    stamp = f"{to.value}_at"
    if getattr(incident, stamp) is None:
        setattr(incident, stamp, now)
    log_event(
        session,
        incident,
        "transition",
        actor=actor,
        now=now,
        from_state=current,
        to_state=to,
        detail=detail,
    )
    flush(session, incident)  # a stale write fails here, before the lifecycle alert
    events.transition(session, incident, current, to, now=now, detail=detail)


def flush(session: Session, incident: Incident) -> None:
    incident_id = incident.id
    try:
        session.flush()
    except StaleDataError as exc:
        raise IncidentChangedConcurrently(
            f"incident {incident_id} was changed by someone else; reload and retry"
        ) from exc


# Warnings and operator moves


def warn(
    session: Session, principal: Principal, incident_id: int, data: WarningCreate, now: datetime
) -> IncidentWarning:
    incident = get(session, principal, incident_id)
    if incident.state not in OPEN_STATES:
        raise IncidentTransitionRefused(f"incident {incident.id} is {incident.state}")
    grace_s = dispatch_service.policy_for(session, incident.district_id).warning_grace_s
    text = data.text
    if data.message_key is not None:
        message = warning_messages().get(data.message_key)
        if message is None:
            raise UnknownWarningMessage(f"no warning message {data.message_key!r}")
        text = text or message.text(data.language)
    given_at = data.given_at if data.given_at and data.given_at.tzinfo else now
    warning = IncidentWarning(
        incident_id=incident.id,
        given_at=given_at,
        given_by=principal.actor_name,
        modes=[m.value for m in data.modes],
        message_key=data.message_key,
        language=data.language if text else None,
        text=text,
    )
    IncidentRepository(session).add(warning)
    incident.warning_count += 1
    incident.last_warned_at = max(incident.last_warned_at or given_at, given_at)
    detail = {
        "modes": warning.modes,
        "message_key": data.message_key,
        "repeat": incident.warning_count > 1,
    }
    if incident.state == IncidentState.detected:
        move(
            session,
            incident,
            IncidentState.warned,
            actor=principal.actor_name,
            now=now,
            detail=detail,
        )
    else:
        log_event(session, incident, "warning", actor=principal.actor_name, now=now, detail=detail)
    if incident.state == IncidentState.warned:
        # The warning's grace: the operator confirms they left the water (clear), or a unit goes.
        incident.response_due_at = incident.last_warned_at + timedelta(seconds=grace_s)
    flush(session, incident)
    return warning


class ClearRefused(Forbidden):
    pass


def device_clear_refusal(session: Session, incident: Incident, *, reporter_key: str) -> str | None:
    """Why a device may not clear this incident, or None: a device clears only an incident its
    own sighting opened, and never a critical one (an officer's call)."""
    if incident.severity == Severity.critical:
        return "a critical incident is cleared by an officer, not a device"
    if IncidentRepository(session).opened_by(incident.id) != reporter_key:
        return "a device clears only the incidents its own sightings opened"
    return None


def clear(session: Session, principal: Principal, incident_id: int, now: datetime) -> Incident:
    """The people left the water after the warning (or before it).

    A device (a drone's token) may clear only an incident its own sighting opened, and never
    a critical one: those are an officer's call."""
    incident = get(session, principal, incident_id)
    if principal.kind == "device":
        refusal = device_clear_refusal(session, incident, reporter_key=principal.reporter_key)
        if refusal is not None:
            raise ClearRefused(refusal)
    if incident.state == IncidentState.cleared:
        return incident
    move(session, incident, IncidentState.cleared, actor=principal.actor_name, now=now)
    flush(session, incident)
    return incident


def escalate(session: Session, principal: Principal, incident_id: int, now: datetime) -> Incident:
    incident = get(session, principal, incident_id)
    if incident.state in {IncidentState.escalated, IncidentState.dispatched}:
        return incident
    start_ladder(session, incident, actor=principal.actor_name, now=now, reason="operator")
    flush(session, incident)
    return incident


def close(session: Session, principal: Principal, incident_id: int, now: datetime) -> Incident:
    incident = get(session, principal, incident_id)
    if incident.state == IncidentState.closed:
        return incident
    move(session, incident, IncidentState.closed, actor=principal.actor_name, now=now)
    flush(session, incident)
    return incident


# Escalation: the ladder is app.dispatch; the moves it causes are recorded here


def payload(incident: Incident, **extra: Any) -> dict[str, Any]:
    """The thin alert payload of an incident: ids, place, severity and counts only."""
    return {
        "incident_id": incident.id,
        "state": str(incident.state),
        "severity": str(incident.severity),
        "lon": incident.lon,
        "lat": incident.lat,
        "people_count": incident.people_count,
        "has_deep_water": incident.has_deep_water,
        "has_suspected_minor": incident.has_suspected_minor,
        **extra,
    }


def _call(incident: Incident) -> dispatch_service.Call:
    return dispatch_service.Call(
        incident_id=incident.id,
        station_id=incident.station_id,
        district_id=incident.district_id,
        lon=incident.lon,
        lat=incident.lat,
        payload=payload(incident),
    )


def _fire_from(
    session: Session, incident: Incident, start: int, *, actor: str, now: datetime
) -> None:
    """Fire the ladder from rung ``start`` and write what it did to the timeline."""
    fired = dispatch_service.fire_from(session, _call(incident), start, now=now)
    incident.escalation_rung = fired.rung
    for step in fired.steps:
        if step.unit_sent and incident.state in {
            IncidentState.escalated,
            IncidentState.acknowledged,
        }:
            move(
                session,
                incident,
                IncidentState.dispatched,
                actor=actor,
                now=now,
                detail=step.detail,
            )
        else:
            log_event(
                session, incident, step.kind, actor=actor, now=now, detail=step.detail or None
            )
    session.flush()


def start_ladder(
    session: Session, incident: Incident, *, actor: str, now: datetime, reason: str
) -> None:
    move(
        session, incident, IncidentState.escalated, actor=actor, now=now, detail={"reason": reason}
    )
    _fire_from(session, incident, 0, actor=actor, now=now)


def _start_unanswered(
    session: Session, incident: Incident, *, actor: str, now: datetime, reason: str
) -> None:
    """Nobody responded in time (or it is critical): the ladder starts and the operators
    are told, so the incident is never silent."""
    start_ladder(session, incident, actor=actor, now=now, reason=reason)
    users = dispatch_service.tell_operators(session, _call(incident), reason=reason, now=now)
    log_event(
        session,
        incident,
        "operators_told",
        actor=actor,
        now=now,
        detail={"reason": reason, "users": users},
    )


def first_response_due(session: Session, incident: Incident) -> datetime:
    """When a detected incident of this severity must have been warned (policy per severity)."""
    limit_s = dispatch_service.policy_for(session, incident.district_id).first_response_s.seconds(
        str(incident.severity)
    )
    return incident.detected_at + timedelta(seconds=limit_s)


def arm_first_response(session: Session, incident: Incident, *, actor: str, now: datetime) -> None:
    """Set (or bring forward, when the severity rose) the deadline by which a detected
    incident must be warned; a deadline already passed (critical: 0 s) starts the ladder."""
    if incident.state != IncidentState.detected:
        return
    due = first_response_due(session, incident)
    if incident.response_due_at is not None:
        due = min(due, incident.response_due_at)
    if due <= now:
        limit_s = round((due - incident.detected_at).total_seconds())
        _start_unanswered(
            session,
            incident,
            actor=actor,
            now=now,
            reason=f"{incident.severity}: respond within {limit_s} s",
        )
    elif due != incident.response_due_at:
        incident.response_due_at = due


def run_due_timers(session: Session, *, now: datetime, limit: int = 100) -> int:
    """First-response deadlines (nobody warned; a warning's grace over), unacknowledged
    rungs and stale acknowledgements; each fires the next step of the ladder."""
    repo = IncidentRepository(session)
    fired = 0
    for waiting in repo.due_first_responses(now, limit):
        if waiting.state == IncidentState.detected:
            reason = f"{waiting.severity}: nobody warned in time"
        else:
            reason = "warning grace over: nobody confirmed they left the water"
        _start_unanswered(session, waiting, actor=SYSTEM_ACTOR, now=now, reason=reason)
        fired += 1
    for dispatch in dispatch_service.expire_due_acks(session, now=now, limit=limit):
        incident = repo.get(dispatch.incident_id)
        if incident is None or incident.state not in {
            IncidentState.escalated,
            IncidentState.dispatched,
        }:
            continue
        log_event(
            session,
            incident,
            "ack_timeout",
            actor=SYSTEM_ACTOR,
            now=now,
            detail={"dispatch_id": dispatch.id, "rung": dispatch.rung},
        )
        _fire_from(session, incident, dispatch.rung + 1, actor=SYSTEM_ACTOR, now=now)
        fired += 1
    for dispatch in dispatch_service.expire_due_on_scene(session, now=now, limit=limit):
        incident = repo.get(dispatch.incident_id)
        if incident is None or incident.state != IncidentState.acknowledged:
            continue
        dispatch_service.release(session, dispatch)
        move(
            session,
            incident,
            IncidentState.dispatched,
            actor=SYSTEM_ACTOR,
            now=now,
            detail={"reason": "acknowledgement expired", "dispatch_id": dispatch.id},
        )
        dispatch_service.notify_ack_expired(session, dispatch, payload=payload(incident), now=now)
        _fire_from(session, incident, dispatch.rung + 1, actor=SYSTEM_ACTOR, now=now)
        fired += 1
    session.flush()
    return fired


# The responders' moves


def acknowledge(
    session: Session, principal: Principal, incident_id: int, now: datetime
) -> Incident:
    """Idempotent: acknowledging twice answers the same incident. Stops the ladder."""
    incident = get(session, principal, incident_id)
    dispatch = dispatch_service.mine(
        session, principal, incident.id, district_id=incident.district_id
    )
    if dispatch.state in {DispatchState.acknowledged, DispatchState.on_scene, DispatchState.done}:
        return incident
    if incident.state not in {
        IncidentState.escalated,
        IncidentState.dispatched,
        IncidentState.acknowledged,
        IncidentState.on_scene,
    }:
        raise IncidentTransitionRefused(f"incident {incident.id} is {incident.state}")
    policy = dispatch_service.policy_for(session, incident.district_id)
    dispatch_service.acknowledge(
        session, dispatch, actor=principal.actor_name, now=now, ack_expiry_s=policy.ack_expiry_s
    )
    if incident.state in {IncidentState.escalated, IncidentState.dispatched}:
        move(
            session,
            incident,
            IncidentState.acknowledged,
            actor=principal.actor_name,
            now=now,
            detail={"dispatch_id": dispatch.id},
        )
    else:
        log_event(
            session,
            incident,
            "acknowledged",
            actor=principal.actor_name,
            now=now,
            detail={"dispatch_id": dispatch.id},
        )
    flush(session, incident)
    return incident


def arrive(session: Session, principal: Principal, incident_id: int, now: datetime) -> Incident:
    """The unit is on scene. Idempotent."""
    incident = get(session, principal, incident_id)
    dispatch = dispatch_service.mine(
        session, principal, incident.id, district_id=incident.district_id
    )
    if dispatch.unit_id is None:
        raise NotDispatchedToYou("only a dispatched unit reports arrival")
    if dispatch.state in {DispatchState.on_scene, DispatchState.done}:
        return incident
    if incident.state not in {
        IncidentState.dispatched,
        IncidentState.acknowledged,
        IncidentState.on_scene,
    }:
        raise IncidentTransitionRefused(f"incident {incident.id} is {incident.state}")
    dispatch_service.arrive(session, dispatch, actor=principal.actor_name, now=now)
    if incident.state == IncidentState.on_scene:
        log_event(
            session,
            incident,
            "on_scene",
            actor=principal.actor_name,
            now=now,
            detail={"unit_id": dispatch.unit_id},
        )
    else:
        move(
            session,
            incident,
            IncidentState.on_scene,
            actor=principal.actor_name,
            now=now,
            detail={"unit_id": dispatch.unit_id},
        )
    flush(session, incident)
    return incident


def resolve(
    session: Session, principal: Principal, incident_id: int, data: ResolveBody, now: datetime
) -> Incident:
    """Idempotent for the same outcome; a different outcome afterwards is a conflict."""
    incident = get(session, principal, incident_id)
    if incident.state in {IncidentState.resolved, IncidentState.closed}:
        if incident.outcome == data.outcome:
            return incident
        raise IncidentOutcomeConflict(f"incident {incident.id} was resolved as {incident.outcome}")
    # A unit resolves only what it has taken: acknowledging first stops the ladder paging
    # others, and the timeline shows who took it before the outcome.
    if (
        principal.ground_unit_id is not None
        and dispatch_service.mine(
            session, principal, incident.id, district_id=incident.district_id
        ).state
        == DispatchState.pending
    ):
        raise IncidentTransitionRefused(f"acknowledge incident {incident.id} before resolving it")
    move(
        session,
        incident,
        IncidentState.resolved,
        actor=principal.actor_name,
        now=now,
        detail={"outcome": data.outcome.value},
    )
    incident.outcome = data.outcome
    incident.resolution_note = data.note
    dispatch_service.close_all(session, incident.id, now=now)
    flush(session, incident)
    return incident
