"""Composition root for HTTP: ``create_app()`` builds the FastAPI application."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from app import docs
from app.audit import service as audit_service
from app.audit.router import router as audit_router
from app.auth.ratelimit import SlidingWindowLimiter
from app.auth.router import router as auth_router
from app.config import Settings, get_settings
from app.db import make_engine, make_sessionmaker
from app.errors import install_handlers
from app.gridworker.router import router as gridworker_router
from app.health.router import router as health_router
from app.jurisdiction.router import router as jurisdiction_router
from app.observability import Metrics, configure_logging, request_middleware
from app.unit.router import router as unit_router

DESCRIPTION = """
Waterguard: drone patrols against drowning. 无人机防溺水巡查系统。

Authenticate with `POST /auth/token` (OAuth2 password flow) and send
`Authorization: Bearer <access_token>`. Devices use `wgd_...` device tokens.
Every error has the shape `{"error": "<Name>", "detail": ...}`. Times are UTC.
"""

# Every feature router; the access walk test reads this list and checks it against the
# OpenAPI schema, so a router must be listed here to be served.
ROUTERS: tuple[APIRouter, ...] = (
    health_router,
    auth_router,
    jurisdiction_router,
    unit_router,
    gridworker_router,
    audit_router,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    audit_service.install_listener()
    app = FastAPI(
        title="Waterguard",
        version="0.1.0",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
    )
    engine = make_engine(settings.database_url)
    app.state.settings = settings
    app.state.secret_key = settings.resolved_secret_key()
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.login_limiter = SlidingWindowLimiter(
        max_events=settings.login_rate_per_minute, window_s=60.0
    )
    app.state.metrics = Metrics()
    app.middleware("http")(request_middleware(app.state.metrics))
    install_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    docs.install(app)
    return app
