from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from app.auth.deps import public, require
from app.auth.models import DeviceScope, Role
from app.auth.principal import Principal
from app.config import Settings
from app.db import SessionDep, utcnow
from app.errors import ERROR_RESPONSES, ErrorEnvelope, envelope
from app.health import service as health_service

router = APIRouter(tags=["health"])

Anyone = Annotated[None, Depends(public())]
# Service-wide figures: the service admin, or a monitoring token it minted (issue 17).
MetricsReader = Annotated[
    Principal, Depends(require(Role.service_admin, scopes=[DeviceScope.metrics_read]))
]


class Health(BaseModel):
    status: str


@router.get("/healthz", response_model=Health)
def healthz(_anyone: Anyone) -> Health:
    """Liveness: the process answers."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    responses={503: {"model": ErrorEnvelope, "description": "Database or worker unavailable"}},
)
def readyz(request: Request, _anyone: Anyone) -> Health | JSONResponse:
    """Readiness: the database commits a write, and (unless turned off) a worker's
    heartbeat is recent. 503 with ``Retry-After`` otherwise."""
    settings: Settings = request.app.state.settings
    retry = {"Retry-After": str(settings.db_retry_after_s)}
    try:
        ready = health_service.check_ready(request.app.state.sessionmaker, now=utcnow())
    except SQLAlchemyError as exc:
        return envelope("DatabaseUnavailable", type(exc).__name__, 503, retry)
    max_age_s = settings.worker_heartbeat_max_age_s
    if settings.ready_requires_worker and not ready.worker_is_alive(max_age_s):
        detail = (
            "no worker has reported yet"
            if ready.worker_age_s is None
            else f"the newest worker heartbeat is {ready.worker_age_s:.0f} s old "
            f"(limit {max_age_s:g} s)"
        )
        return envelope("WorkerUnavailable", detail, 503, retry)
    return Health(status="ready")


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"},
        **ERROR_RESPONSES,
    },
)
def metrics(request: Request, _reader: MetricsReader, session: SessionDep) -> Response:
    """Prometheus metrics (the service admin, or device tokens with scope metrics:read): this
    process's requests, and from the database the outbox lag, delivery backlog, dead
    deliveries, timer lateness and the worker heartbeat."""
    body = generate_latest(request.app.state.metrics.registry)
    body += health_service.database_metrics(session, now=utcnow())
    return Response(body, media_type=CONTENT_TYPE_LATEST)
