"""The audit trail: one row per write and per read of sensitive data, hash-chained.

Writes are recorded automatically by an ``after_flush`` listener on every ORM session;
sensitive reads are recorded by the services that serve them (``record_read``). Rows are
appended under a row lock on ``audit_head`` so the chain stays linear under concurrency.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, insert, inspect, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, UOWTransaction

from app.audit.models import GENESIS_HASH, AuditEvent, AuditHead
from app.db import Base, utcnow

# Tables whose writes are bookkeeping of the audit itself or carry secrets only.
UNAUDITED_TABLES = {"audit_events", "audit_head"}
# Columns never copied into the audit detail.
SECRET_COLUMNS = {"password_hash", "token_hash", "totp_secret", "code_hash"}


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    kind: str  # user | device | system | anonymous
    ip: str | None = None
    request_id: str | None = None


SYSTEM = Actor(name="system", kind="system")


@dataclass(slots=True)
class PendingEvent:
    action: str
    resource_type: str
    resource_id: str | None
    jurisdiction_id: int | None = None
    detail: dict[str, Any] | None = field(default=None)


def set_actor(session: Session, actor: Actor) -> None:
    session.info["audit_actor"] = actor


def get_actor(session: Session) -> Actor:
    actor = session.info.get("audit_actor")
    return actor if isinstance(actor, Actor) else SYSTEM


def _canonical(row: Mapping[str, Any]) -> str:
    payload = {
        key: (value.isoformat() if isinstance(value, datetime) else value)
        for key, value in row.items()
        if key not in {"hash", "prev_hash"}
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev_hash + _canonical(row)).encode()).hexdigest()


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _append(connection: Connection, actor: Actor, events: list[PendingEvent]) -> None:
    if not events:
        return
    head = _table(AuditHead)
    locked = connection.execute(
        update(head)
        .where(head.c.id == 1)
        .values(seq=head.c.seq + len(events))
        .returning(head.c.seq, head.c.hash)
    ).one()
    first_seq = int(locked.seq) - len(events) + 1
    prev = str(locked.hash)
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for offset, event in enumerate(events):
        row: dict[str, Any] = {
            "seq": first_seq + offset,
            "at": now,
            "actor": actor.name,
            "actor_kind": actor.kind,
            "action": event.action,
            "resource_type": event.resource_type,
            "resource_id": event.resource_id,
            "jurisdiction_id": event.jurisdiction_id,
            "ip": actor.ip,
            "request_id": actor.request_id,
            "detail": event.detail,
        }
        row["prev_hash"] = prev
        row["hash"] = prev = chain_hash(prev, row)
        rows.append(row)
    connection.execute(insert(_table(AuditEvent)), rows)
    connection.execute(update(head).where(head.c.id == 1).values(hash=prev))


def record_read(
    session: Session,
    *,
    resource_type: str,
    resource_id: str | int | None,
    jurisdiction_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record that the session's actor read sensitive data."""
    event = PendingEvent(
        "read",
        resource_type,
        None if resource_id is None else str(resource_id),
        jurisdiction_id,
        detail,
    )
    _append(session.connection(), get_actor(session), [event])


def record(
    session: Session,
    *,
    action: str,
    resource_type: str,
    resource_id: str | int | None = None,
    jurisdiction_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record a domain action that is not a plain row write (login, revoke, export)."""
    event = PendingEvent(
        action,
        resource_type,
        None if resource_id is None else str(resource_id),
        jurisdiction_id,
        detail,
    )
    _append(session.connection(), get_actor(session), [event])


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | dict):
        return json.loads(json.dumps(value, default=str))
    return str(value)


def _row_event(obj: Base, action: str) -> PendingEvent | None:
    table = obj.__table__.name  # type: ignore[attr-defined]
    if table in UNAUDITED_TABLES:
        return None
    state = inspect(obj)
    identity = state.mapper.primary_key_from_instance(obj)
    resource_id = ",".join(str(part) for part in identity if part is not None) or None
    changed: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in SECRET_COLUMNS:
            if action != "delete" and state.attrs[attr.key].history.has_changes():
                changed[attr.key] = "<changed>"
            continue
        history = state.attrs[attr.key].history
        if action == "create" or history.has_changes():
            value = getattr(obj, attr.key)
            changed[attr.key] = _jsonable(value)
    if action == "update" and not changed:
        return None
    jurisdiction_id = None
    for key in ("jurisdiction_id", "station_id", "community_id"):
        if key in changed or hasattr(obj, key):
            raw = getattr(obj, key, None)
            if isinstance(raw, int):
                jurisdiction_id = raw
                break
    return PendingEvent(action, table, resource_id, jurisdiction_id, changed or None)


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    events: list[PendingEvent] = []
    for action, objects in (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            if isinstance(obj, Base) and not isinstance(obj, AuditEvent | AuditHead):
                event = _row_event(obj, action)
                if event is not None:
                    events.append(event)
    if events:
        _append(session.connection(), get_actor(session), events)


def install_listener() -> None:
    """Audit every ORM write; idempotent."""
    from sqlalchemy import event as sa_event

    if not sa_event.contains(Session, "after_flush", _after_flush):
        sa_event.listen(Session, "after_flush", _after_flush)


def list_events(
    session: Session, principal_path: str, *, resource_type: str | None, limit: int, offset: int
) -> tuple[Sequence[AuditEvent], int]:
    from app.audit.repository import AuditRepository

    rows, total = AuditRepository(session).list_under(
        principal_path, resource_type=resource_type, limit=limit, offset=offset
    )
    record_read(
        session, resource_type="audit_events", resource_id=None, detail={"count": len(rows)}
    )
    return rows, total


@dataclass(frozen=True, slots=True)
class VerifyReport:
    checked: int
    is_intact: bool
    first_bad_seq: int | None
    problem: str | None


def iter_rows(session: Session, *, batch: int = 2000) -> Iterator[Mapping[str, Any]]:
    """Audit rows straight from the database (never the identity map), in order."""
    table = _table(AuditEvent)
    last = 0
    while True:
        rows = (
            session.execute(
                select(table).where(table.c.seq > last).order_by(table.c.seq).limit(batch)
            )
            .mappings()
            .all()
        )
        if not rows:
            return
        for row in rows:
            yield dict(row)
        last = int(rows[-1]["seq"])


def verify(session: Session, *, on_row: Callable[[], object] | None = None) -> VerifyReport:
    """Recompute the chain; report the first row whose hash or link is wrong."""
    prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for row in iter_rows(session):
        seq = int(row["seq"])
        if seq != expected_seq:
            return VerifyReport(checked, False, expected_seq, f"row {expected_seq} is missing")
        if row["prev_hash"] != prev:
            return VerifyReport(checked, False, seq, "link to the previous row is broken")
        if chain_hash(prev, row) != row["hash"]:
            return VerifyReport(checked, False, seq, "row content does not match its hash")
        prev = str(row["hash"])
        expected_seq += 1
        checked += 1
        if on_row is not None:
            on_row()
    head_table = _table(AuditHead)
    head = session.execute(select(head_table).where(head_table.c.id == 1)).mappings().first()
    if head is None:
        return VerifyReport(checked, False, None, "audit head row is missing")
    if head["seq"] != checked or head["hash"] != prev:
        return VerifyReport(
            checked, False, checked + 1, f"head says {head['seq']} rows, found {checked}"
        )
    return VerifyReport(checked, True, None, None)
