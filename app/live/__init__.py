"""Live fan-out: SSE streams in every process wake within milliseconds of a commit in any
process. The database stays the record; a wake-up only says "re-read".

- ``notifier``: topics (``ALERTS``, ``SORTIES``) that streams and worker threads wait on.
- ``commit``: ``mark(session, topic)``; after commit the process's waiters wake, and on
  PostgreSQL a ``NOTIFY`` in the same transaction wakes the other processes.
- ``postgres``: the one ``LISTEN`` connection per process (reconnecting).
"""

from app.live.commit import install, mark
from app.live.notifier import ALERTS, SORTIES, Topic, Waiter, wake_all
from app.live.postgres import Listener, listening

__all__ = [
    "ALERTS",
    "SORTIES",
    "Listener",
    "Topic",
    "Waiter",
    "install",
    "listening",
    "mark",
    "wake_all",
]
