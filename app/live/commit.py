"""Wake-ups from commits: a unit of work that wrote rows a stream shows marks its session;
when it commits, this process's waiters wake, and on PostgreSQL a ``NOTIFY`` sent in the
same transaction wakes every other process (delivered by PostgreSQL only if the
transaction commits, after it commits). A rolled-back unit of work wakes nobody.
"""

from __future__ import annotations

import threading

from sqlalchemy import event, select
from sqlalchemy import func as sql_func
from sqlalchemy.orm import Session

from app.live.notifier import TOPICS, Topic

WRITTEN = "live_topics_written"
CHANNEL_PREFIX = "waterguard_"  # PostgreSQL channel = prefix + topic name

_install_lock = threading.Lock()
_installed = False


def channel_of(topic: Topic) -> str:
    return CHANNEL_PREFIX + topic.name


def topic_of_channel(channel: str) -> Topic | None:
    if not channel.startswith(CHANNEL_PREFIX):
        return None
    return TOPICS.get(channel[len(CHANNEL_PREFIX) :])


def mark(session: Session, topic: Topic) -> None:
    """Wake ``topic``'s waiters, in every process, once this session commits."""
    install()
    written: set[str] = session.info.setdefault(WRITTEN, set())
    written.add(topic.name)


def _before_commit(session: Session) -> None:
    written: set[str] | None = session.info.get(WRITTEN)
    if not written:
        return
    if session.get_bind().dialect.name != "postgresql":
        return
    for name in sorted(written):
        # pg_notify: transactional, and identical notices of one transaction fold into one.
        session.execute(select(sql_func.pg_notify(CHANNEL_PREFIX + name, "")))


def _after_commit(session: Session) -> None:
    for name in session.info.pop(WRITTEN, ()):
        TOPICS[name].wake()


def _after_rollback(session: Session) -> None:
    session.info.pop(WRITTEN, None)


def install() -> None:
    """Hook the session events once per process (``mark`` calls it; idempotent)."""
    global _installed
    if _installed:
        return
    with _install_lock:
        if not _installed:
            event.listen(Session, "before_commit", _before_commit)
            event.listen(Session, "after_commit", _after_commit)
            event.listen(Session, "after_rollback", _after_rollback)
            _installed = True
