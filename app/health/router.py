from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.auth.deps import public, require
from app.auth.models import DeviceScope, Role
from app.auth.principal import Principal
from app.errors import ERROR_RESPONSES, ErrorEnvelope

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
    responses={503: {"model": ErrorEnvelope, "description": "Database unreachable"}},
)
def readyz(request: Request, _anyone: Anyone) -> Health | JSONResponse:
    """Readiness: the database answers a query."""
    try:
        with request.app.state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return JSONResponse(
            {"error": "DatabaseUnavailable", "detail": type(exc).__name__}, status_code=503
        )
    return Health(status="ready")


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"},
        **ERROR_RESPONSES,
    },
)
def metrics(request: Request, _reader: MetricsReader) -> Response:
    """Prometheus metrics (the service admin, or device tokens with scope metrics:read)."""
    body = generate_latest(request.app.state.metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
