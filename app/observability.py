"""JSON logs with request ids, and Prometheus request metrics."""

from __future__ import annotations

import logging
import sys
import time
import uuid
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Histogram
from pythonjsonlogger.json import JsonFormatter
from starlette.requests import Request
from starlette.responses import Response

REQUEST_ID_HEADER = "X-Request-ID"
access_log = logging.getLogger("waterguard.access")


def configure_logging(level: str, *, json_lines: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                timestamp=False,
            )
        )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "waterguard_http_requests_total",
            "HTTP requests by method, route template and status code",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "waterguard_http_request_duration_seconds",
            "HTTP request duration by method and route template",
            ["method", "route"],
            registry=self.registry,
        )


def _route_template(request: Request) -> str:
    """The matched route's template (``/units/{unit_id}``), so label sets stay bounded."""
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "<unmatched>"


def _clean_request_id(raw: str | None) -> str:
    if raw and 0 < len(raw) <= 64 and raw.replace("-", "").isalnum():
        return raw
    return uuid.uuid4().hex


def request_middleware(
    metrics: Metrics,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    async def middleware(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request_id = _clean_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.state.request_id = request_id
        started = time.perf_counter()
        response = await call_next(request)
        elapsed_s = time.perf_counter() - started
        route = _route_template(request)
        metrics.requests.labels(request.method, route, str(response.status_code)).inc()
        metrics.latency.labels(request.method, route).observe(elapsed_s)
        response.headers[REQUEST_ID_HEADER] = request_id
        access_log.info(
            "request",
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": request.url.path,
                "route": route,
                "status": response.status_code,
                "duration_ms": round(elapsed_s * 1000, 2),
                "client": request.client.host if request.client else None,
            },
        )
        return response

    return middleware
