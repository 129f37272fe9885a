"""The audit trail: one row per write and per read of sensitive data, HMAC-chained.

Writes are recorded automatically by an ``after_flush`` listener on every ORM session;
sensitive reads are recorded by the services that serve them (``record_read``). Rows are
appended under a row lock on ``audit_head`` so the chain stays linear under concurrency.
Every row names the jurisdiction it belongs to where one can be found (the row's own, the
one its foreign keys lead to, or the acting user's); a district admin reads only the rows
of their district. Personal values (names, phone numbers, free text about people) are
never copied into a row: only the names of the fields that changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import MetaData, Table, insert, inspect, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, UOWTransaction

from app.audit.chain import Checkpoint, CheckpointFile, CheckpointTampered, derive_key
from app.audit.chain import chain_hash as keyed_hash
from app.audit.models import GENESIS_HASH, AuditEvent, AuditHead
from app.config import Settings
from app.db import Base, utcnow

# Tables whose writes are bookkeeping of the audit itself or carry secrets only.
UNAUDITED_TABLES = {"audit_events", "audit_head"}
# Columns never copied into the audit detail.
SECRET_COLUMNS = {"password_hash", "token_hash", "totp_secret", "code_hash"}
# Personal values: only the field name goes into the audit detail (as "<changed>"), so the
# retention purge of the row leaves nothing of the person behind in the audit log.
PERSONAL_COLUMNS: dict[str, frozenset[str]] = {
    "persons": frozenset({"name", "guardian_name", "guardian_phone"}),
    "ground_units": frozenset({"phone"}),
    "grid_workers": frozenset({"name", "phone"}),
    "follow_up_tasks": frozenset({"outcome", "cancel_reason"}),
    "incidents": frozenset({"resolution_note"}),
}
HIDDEN = "<changed>"
# Columns that name the jurisdiction a row belongs to, most specific first.
JURISDICTION_COLUMNS = ("jurisdiction_id", "community_id", "station_id", "district_id")
JURISDICTIONS_TABLE = "jurisdictions"
MAX_FK_DEPTH = 3


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    kind: str  # user | device | system | anonymous
    ip: str | None = None
    request_id: str | None = None
    # The acting user's or device's jurisdiction: the row's district when the row names none.
    jurisdiction_id: int | None = None


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


# --- the chain key: kept outside the database, one per engine ------------------------------

_ENGINE_KEYS: WeakKeyDictionary[Engine, bytes] = WeakKeyDictionary()


def use_key(engine: Engine, audit_key: str) -> None:
    """Chain rows written through ``engine`` with ``audit_key`` (the resolved setting)."""
    _ENGINE_KEYS[engine] = derive_key(audit_key)


def chain_key(bind: Engine | Connection) -> bytes:
    engine = bind.engine if isinstance(bind, Connection) else bind
    key = _ENGINE_KEYS.get(engine)
    if key is None:
        from app.config import get_settings

        key = _ENGINE_KEYS[engine] = derive_key(get_settings().resolved_audit_key())
    return key


def chain_hash(key: bytes, prev_hash: str, row: Mapping[str, Any]) -> str:
    return keyed_hash(key, prev_hash, row)


def checkpoint_file(settings: Settings) -> CheckpointFile:
    """The signed checkpoints of ``settings`` (a file outside the database)."""
    path = settings.audit_checkpoint_file
    assert path is not None  # filled in by Settings
    return CheckpointFile(path, derive_key(settings.resolved_audit_key()))


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _table_named(name: str, metadata: MetaData | None = None) -> Table | None:
    table = (metadata or Base.metadata).tables.get(name)
    return table if isinstance(table, Table) else None


def _jurisdiction_in(
    connection: Connection,
    table: Table,
    values: Mapping[str, Any],
    cache: dict[tuple[str, Any], int | None],
    depth: int = 0,
) -> int | None:
    """The jurisdiction a row belongs to: its own column, or the one its foreign keys reach."""
    if table.name == JURISDICTIONS_TABLE:
        own = values.get("id")
        return own if isinstance(own, int) else None
    for key in JURISDICTION_COLUMNS:
        raw = values.get(key)
        if isinstance(raw, int):
            return raw
    if depth >= MAX_FK_DEPTH:
        return None
    for column in table.columns:
        raw = values.get(column.key)
        if raw is None:
            continue
        for foreign_key in column.foreign_keys:
            parent = foreign_key.column.table
            if not isinstance(parent, Table) or parent.name in UNAUDITED_TABLES:
                continue
            if parent.name == JURISDICTIONS_TABLE:
                return raw if isinstance(raw, int) else None
            found = _jurisdiction_of_row(
                connection, parent, foreign_key.column.key, raw, cache, depth + 1
            )
            if found is not None:
                return found
    return None


def _jurisdiction_of_row(
    connection: Connection,
    table: Table,
    key_column: str,
    key: Any,
    cache: dict[tuple[str, Any], int | None],
    depth: int = 0,
) -> int | None:
    cache_key = (f"{table.name}.{key_column}", key)
    if cache_key not in cache:
        row = (
            connection.execute(select(table).where(table.c[key_column] == key).limit(1))
            .mappings()
            .first()
        )
        cache[cache_key] = (
            None if row is None else _jurisdiction_in(connection, table, dict(row), cache, depth)
        )
    return cache[cache_key]


def _resource_jurisdiction(
    connection: Connection,
    resource_type: str,
    resource_id: str | None,
    metadata: MetaData | None = None,
) -> int | None:
    """The jurisdiction of the row ``resource_type``/``resource_id`` names, if it is one
    (tables from ``metadata``: the models', or those a migration reflected)."""
    table = _table_named(resource_type, metadata)
    if table is None or resource_id is None or not resource_id.isdigit():
        return None
    primary = list(table.primary_key.columns)
    if len(primary) != 1:
        return None
    return _jurisdiction_of_row(connection, table, primary[0].key, int(resource_id), {})


def _append(connection: Connection, actor: Actor, events: list[PendingEvent]) -> None:
    if not events:
        return
    key = chain_key(connection)
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
        row["hash"] = prev = chain_hash(key, prev, row)
        rows.append(row)
    connection.execute(insert(_table(AuditEvent)), rows)
    connection.execute(update(head).where(head.c.id == 1).values(hash=prev))


def _domain_event(
    connection: Connection,
    actor: Actor,
    action: str,
    resource_type: str,
    resource_id: str | int | None,
    jurisdiction_id: int | None,
    detail: dict[str, Any] | None,
) -> PendingEvent:
    rid = None if resource_id is None else str(resource_id)
    if jurisdiction_id is None:
        jurisdiction_id = _resource_jurisdiction(connection, resource_type, rid)
    if jurisdiction_id is None:
        jurisdiction_id = actor.jurisdiction_id
    return PendingEvent(action, resource_type, rid, jurisdiction_id, detail)


def record_read(
    session: Session,
    *,
    resource_type: str,
    resource_id: str | int | None,
    jurisdiction_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record that the session's actor read sensitive data (ids and counts in ``detail``,
    never the values read)."""
    connection = session.connection()
    actor = get_actor(session)
    event = _domain_event(
        connection, actor, "read", resource_type, resource_id, jurisdiction_id, detail
    )
    _append(connection, actor, [event])


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
    connection = session.connection()
    actor = get_actor(session)
    event = _domain_event(
        connection, actor, action, resource_type, resource_id, jurisdiction_id, detail
    )
    _append(connection, actor, [event])


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | dict):
        return json.loads(json.dumps(value, default=str))
    return str(value)


def scrub_detail(table: str, detail: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``detail`` without personal values: each personal field keeps its name only."""
    if detail is None:
        return None
    personal = PERSONAL_COLUMNS.get(table, frozenset())
    return {
        key: (HIDDEN if key in personal and value is not None else value)
        for key, value in detail.items()
    }


def _row_event(
    connection: Connection,
    actor: Actor,
    obj: Base,
    action: str,
    cache: dict[tuple[str, Any], int | None],
) -> PendingEvent | None:
    table = obj.__table__.name  # type: ignore[attr-defined]
    if table in UNAUDITED_TABLES:
        return None
    state = inspect(obj)
    identity = state.mapper.primary_key_from_instance(obj)
    resource_id = ",".join(str(part) for part in identity if part is not None) or None
    hidden = SECRET_COLUMNS | PERSONAL_COLUMNS.get(table, frozenset())
    changed: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        value = getattr(obj, attr.key)
        for column in attr.columns:
            values[column.key] = value
        history = state.attrs[attr.key].history
        if attr.key in hidden:
            if action != "delete" and history.has_changes() and value is not None:
                changed[attr.key] = HIDDEN
            continue
        if action == "create" or history.has_changes():
            changed[attr.key] = _jsonable(value)
    if action == "update" and not changed:
        return None
    mapped_table = obj.__table__
    jurisdiction_id = None
    if isinstance(mapped_table, Table):
        jurisdiction_id = _jurisdiction_in(connection, mapped_table, values, cache, MAX_FK_DEPTH)
        if jurisdiction_id is None:
            jurisdiction_id = actor.jurisdiction_id
        if jurisdiction_id is None:
            jurisdiction_id = _jurisdiction_in(connection, mapped_table, values, cache)
    return PendingEvent(action, table, resource_id, jurisdiction_id, changed or None)


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    connection = session.connection()
    actor = get_actor(session)
    cache: dict[tuple[str, Any], int | None] = {}
    events: list[PendingEvent] = []
    for action, objects in (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            if isinstance(obj, Base) and not isinstance(obj, AuditEvent | AuditHead):
                event = _row_event(connection, actor, obj, action, cache)
                if event is not None:
                    events.append(event)
    if events:
        _append(connection, actor, events)


def install_listener() -> None:
    """Audit every ORM write; idempotent."""
    from sqlalchemy import event as sa_event

    if not sa_event.contains(Session, "after_flush", _after_flush):
        sa_event.listen(Session, "after_flush", _after_flush)


def list_events(
    session: Session,
    principal_path: str | None,
    *,
    resource_type: str | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[AuditEvent], int]:
    """Rows of the subtree at ``principal_path``; every row, service-wide ones included,
    when it is None (the service-wide role)."""
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
    head_seq: int = 0
    from_seq: int = 0  # the checkpoint the walk started from (0: the beginning)


def iter_rows(
    session: Session, *, after: int = 0, upto: int | None = None, batch: int = 2000
) -> Iterator[Mapping[str, Any]]:
    """Audit rows straight from the database (never the identity map), in order."""
    table = _table(AuditEvent)
    last = after
    while True:
        query = select(table).where(table.c.seq > last)
        if upto is not None:
            query = query.where(table.c.seq <= upto)
        rows = session.execute(query.order_by(table.c.seq).limit(batch)).mappings().all()
        if not rows:
            return
        for row in rows:
            yield dict(row)
        last = int(rows[-1]["seq"])


def _row_at(session: Session, seq: int) -> Mapping[str, Any] | None:
    table = _table(AuditEvent)
    row = session.execute(select(table).where(table.c.seq == seq)).mappings().first()
    return None if row is None else dict(row)


def verify(
    session: Session,
    *,
    checkpoints: CheckpointFile | None = None,
    full: bool = False,
    on_row: Callable[[], object] | None = None,
) -> VerifyReport:
    """Recompute the keyed chain; report the first row whose hash or link is wrong.

    With ``checkpoints``, the walk starts at the newest signed checkpoint (unless ``full``),
    every checkpoint must still match its row, none may lie beyond the head (rows cut off),
    and an intact chain adds a checkpoint for its head.
    """
    key = chain_key(session.connection())
    head_table = _table(AuditHead)
    head = session.execute(select(head_table).where(head_table.c.id == 1)).mappings().first()
    if head is None:
        return VerifyReport(0, False, None, "audit head row is missing")
    head_seq, head_hash = int(head["seq"]), str(head["hash"])
    points: list[Checkpoint] = []
    if checkpoints is not None:
        try:
            points = checkpoints.read()
        except CheckpointTampered as exc:
            return VerifyReport(0, False, None, str(exc), head_seq)
    vouched = {point.seq: point.hash for point in points}
    if points and max(vouched) > head_seq:
        return VerifyReport(
            0,
            False,
            head_seq + 1,
            f"rows after {head_seq} are missing: a checkpoint vouches for row {max(vouched)}",
            head_seq,
        )
    prev, start = GENESIS_HASH, 0
    checked = 0
    if points and not full:
        start = max(vouched)
        anchor = _row_at(session, start)
        if anchor is None:
            return VerifyReport(0, False, start, f"row {start} is missing", head_seq, start)
        if anchor["hash"] != vouched[start] or (
            chain_hash(key, str(anchor["prev_hash"]), anchor) != anchor["hash"]
        ):
            return VerifyReport(
                0, False, start, "row does not match its signed checkpoint", head_seq, start
            )
        prev = vouched[start]
    expected_seq = start + 1
    for row in iter_rows(session, after=start, upto=head_seq):
        seq = int(row["seq"])
        if seq != expected_seq:
            return VerifyReport(
                checked, False, expected_seq, f"row {expected_seq} is missing", head_seq, start
            )
        if row["prev_hash"] != prev:
            return VerifyReport(
                checked, False, seq, "link to the previous row is broken", head_seq, start
            )
        if chain_hash(key, prev, row) != row["hash"]:
            return VerifyReport(
                checked, False, seq, "row content does not match its hash", head_seq, start
            )
        if seq in vouched and vouched[seq] != row["hash"]:
            return VerifyReport(
                checked, False, seq, "row does not match its signed checkpoint", head_seq, start
            )
        prev = str(row["hash"])
        expected_seq += 1
        checked += 1
        if on_row is not None:
            on_row()
    if expected_seq - 1 != head_seq or head_hash != prev:
        return VerifyReport(
            checked,
            False,
            expected_seq,
            f"head says {head_seq} rows, found {expected_seq - 1}",
            head_seq,
            start,
        )
    if checkpoints is not None and head_seq > max(vouched, default=0):
        checkpoints.append(Checkpoint(head_seq, head_hash, utcnow().isoformat()))
    return VerifyReport(checked, True, None, None, head_seq, start)
