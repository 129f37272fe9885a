"""Composition root for HTTP: ``create_app()`` builds the FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app import docs, egress, live
from app.alert import hub as alert_hub
from app.alert.router import router as alert_router
from app.alert.router import webhook_router
from app.audit import service as audit_service
from app.audit.router import router as audit_router
from app.auth.router import router as auth_router
from app.body_limit import (
    FORM_ALLOWANCE_BYTES,
    BodyLimit,
    BodyRule,
    BodyTooLarge,
    answer_body_too_large,
    route_rule,
)
from app.config import Settings, get_settings
from app.db import make_engine, make_sessionmaker
from app.detection_job.router import FORM_ALLOWANCE_BYTES as VIDEO_FORM_ALLOWANCE_BYTES
from app.detection_job.router import router as detection_job_router
from app.dispatch.router import policy_router as escalation_policy_router
from app.dji import auto_warn as dji_auto_warn
from app.dji import bridge as dji_bridge
from app.dji.dissuasion_router import router as dji_dissuasion_router
from app.dji.flight_router import router as dji_flight_router
from app.dji.router import router as dji_router
from app.drone.router import router as drone_router
from app.errors import ErrorEnvelope, install_handlers
from app.gridworker.router import router as gridworker_router
from app.health.router import router as health_router
from app.incident import media
from app.incident.router import evidence_router
from app.incident.router import library_router as warning_library_router
from app.incident.router import router as incident_router
from app.jurisdiction.router import router as jurisdiction_router
from app.mission import service as mission_service
from app.mission.router import router as mission_router
from app.nostore import NoStoreForCredentials
from app.observability import Metrics, RequestObservability, configure_logging
from app.referral.router import router as referral_router
from app.report.router import router as report_router
from app.schedule.router import router as schedule_router
from app.sighting.router import router as sighting_router
from app.sortie import live as sortie_live
from app.sortie import service as sortie_service
from app.sortie.router import router as sortie_router
from app.stats.router import router as stats_router
from app.unit.router import router as unit_router
from app.waterway import service as waterway_service
from app.waterway.router import router as waterway_router
from app.web.router import router as web_router
from app.worker import embedded_lifespan

DESCRIPTION = """
Waterguard: drone patrols against drowning. 无人机防溺水巡查系统。

Authenticate with `POST /auth/token` (OAuth2 password flow) and send
`Authorization: Bearer <access_token>`. Devices use `wgd_...` device tokens.
Every error has the shape `{"error": "<Name>", "detail": ...}`. Times are UTC.
"""

# Every feature router, in the order they are mounted. The access walk test does not rely on
# this list: it walks the served route table itself.
ROUTERS: tuple[APIRouter, ...] = (
    health_router,
    auth_router,
    jurisdiction_router,
    unit_router,
    gridworker_router,
    waterway_router,
    drone_router,
    dji_router,
    dji_flight_router,
    dji_dissuasion_router,
    mission_router,
    schedule_router,
    sortie_router,
    audit_router,
    sighting_router,
    detection_job_router,
    incident_router,
    warning_library_router,
    escalation_policy_router,
    alert_router,
    webhook_router,
    evidence_router,
    referral_router,
    stats_router,
    report_router,
    web_router,
)


def body_limits(settings: Settings) -> tuple[BodyRule, ...]:
    """The routes whose bodies are files, each with its own limit (file + form allowance);
    every other route takes ``MAX_JSON_BODY_BYTES``. A new upload route belongs here
    (``tests/security/test_body_limits.py`` finds upload routes missing from it)."""
    return (
        route_rule(
            "POST",
            "/sorties/{sortie_id}/detection-jobs",
            settings.detection_max_upload_bytes + VIDEO_FORM_ALLOWANCE_BYTES,
            error="VideoTooLarge",
            what="videos",
        ),
        route_rule(
            "POST", "/waterways/import", waterway_service.MAX_UPLOAD_BYTES + FORM_ALLOWANCE_BYTES
        ),
        route_rule(
            "POST", "/missions/import", mission_service.MAX_ROUTE_BYTES + FORM_ALLOWANCE_BYTES
        ),
        route_rule(
            "POST", "/sorties/{sortie_id}/srt", sortie_service.MAX_SRT_BYTES + FORM_ALLOWANCE_BYTES
        ),
        route_rule(
            "POST",
            "/incidents/{incident_id}/evidence",
            media.MAX_UPLOAD_BYTES + FORM_ALLOWANCE_BYTES,
        ),
    )


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The background worker, the DJI bridge when ``WATERGUARD_MQTT_URL`` is set, and on
    PostgreSQL the one ``LISTEN`` connection that wakes this process's streams."""
    async with (
        live.listening(app.state.settings.database_url) as listener,
        embedded_lifespan(app),
        dji_bridge.lifespan(app),
        dji_auto_warn.lifespan(app),
    ):
        app.state.live_listener = listener
        yield


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    audit_service.install_listener()
    alert_hub.install_listener()
    sortie_live.install_listener()
    app = FastAPI(
        title="Waterguard",
        version="0.1.0",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan,
        responses={413: {"model": ErrorEnvelope, "description": "The body is over its limit"}},
    )
    engine = make_engine(settings.database_url)
    app.state.settings = settings
    app.state.secret_key = settings.resolved_secret_key()
    app.state.engine = engine
    audit_service.use_key(engine, settings.resolved_audit_key())
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.metrics = Metrics()
    app.state.egress = egress.policy_of(settings)
    app.add_middleware(
        BodyLimit, default_bytes=settings.max_json_body_bytes, rules=body_limits(settings)
    )
    app.add_middleware(NoStoreForCredentials)
    app.add_middleware(RequestObservability, metrics=app.state.metrics)
    if settings.trusted_proxies:
        # Added last, so outermost: the client address is settled before anything logs,
        # audits or limits by it. Only these proxies' X-Forwarded-For is believed.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    install_handlers(app)
    app.add_exception_handler(BodyTooLarge, answer_body_too_large)
    for router in ROUTERS:
        app.include_router(router)
    docs.install(app)
    return app
