"""Planning with a wall-clock budget, in a child process that can be killed.

``missions.plan_patrol`` is pure CPU work in numpy and GEOS; a pathological outline (thousands
of islands) could keep it busy for many minutes, and a thread stuck in C code cannot be
stopped. So each plan runs in a child process forked from a ``forkserver`` (started once,
with the planning core already imported: a plan starts in milliseconds, and the child does not
inherit the server's threads, sockets or database connections). The request's thread only
waits on a pipe; when the budget runs out the child is killed and the caller gets
:class:`PlanningTooComplex`. A server that is asked to stop is never held up longer than one
budget.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import threading
import time
from typing import Any

from missions import PatrolPlan, plan_patrol

_lock = threading.Lock()
_context: Any = None


class PlanningFailed(Exception):
    """The core refused the plan (``missions.MissionsError`` or ``ValueError``)."""


class PlanningTooComplex(Exception):
    """The plan did not finish within the budget (or its process died)."""


def _mp_context() -> Any:
    global _context
    with _lock:
        if _context is None:
            if "forkserver" in multiprocessing.get_all_start_methods():
                forkserver = multiprocessing.get_context("forkserver")
                forkserver.set_forkserver_preload(["missions", "app.mission.budget"])
                _context = forkserver
            else:  # pragma: no cover - not Linux
                _context = multiprocessing.get_context("spawn")
        return _context


def _child(conn: multiprocessing.connection.Connection, kwargs: dict[str, Any]) -> None:
    try:
        plan = plan_patrol(**kwargs)
    except Exception as exc:  # the core's refusals and anything else: sent back as text
        conn.send(("error", f"{exc}"))
    else:
        conn.send(("ok", plan))
    finally:
        conn.close()


def plan_within_budget(budget_s: float, **kwargs: Any) -> PatrolPlan:
    """``missions.plan_patrol(**kwargs)`` in a child process, killed after ``budget_s``.

    Raises:
        PlanningFailed: The core refused (its message).
        PlanningTooComplex: Not finished within ``budget_s``, or the child died.
    """
    deadline = time.monotonic() + budget_s
    ctx = _mp_context()
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(send, kwargs), daemon=True)
    process.start()
    send.close()
    try:
        if not receive.poll(max(deadline - time.monotonic(), 0.0)):
            raise PlanningTooComplex(
                f"too complex: planning did not finish within {budget_s:g} s "
                "(PLANNING_BUDGET_S); simplify the outline, drop small islands or plan a "
                "smaller part of the water"
            )
        try:
            status, payload = receive.recv()
        except EOFError as exc:
            raise PlanningTooComplex(
                "too complex: the planning process stopped without an answer"
            ) from exc
    finally:
        receive.close()
        if process.is_alive():
            process.kill()
        process.join(5)
    if status == "error":
        raise PlanningFailed(str(payload))
    plan: PatrolPlan = payload
    return plan
