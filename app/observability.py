"""JSON logs with request ids, and Prometheus request metrics."""

from __future__ import annotations

import logging
import sys
import time
import uuid

from prometheus_client import CollectorRegistry, Counter, Histogram
from pythonjsonlogger.json import JsonFormatter
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


class RequestObservability:
    """Request id, metrics and the access log, as a plain ASGI middleware.

    Not an ``@app.middleware("http")`` function: Starlette's ``BaseHTTPMiddleware`` behind
    those relays every body chunk of a streaming response through a task group of its own,
    which made it the event loop's largest cost when 1,000 SSE streams each received an
    alert. Timing and logging happen when the response starts (its status is known), as
    they did before; the request id is in ``request.state.request_id`` and the
    ``X-Request-ID`` response header."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        request_id = _clean_request_id(request.headers.get(REQUEST_ID_HEADER))
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed_s = time.perf_counter() - started
                status = int(message["status"])
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
                route = _route_template(request)
                self.metrics.requests.labels(request.method, route, str(status)).inc()
                self.metrics.latency.labels(request.method, route).observe(elapsed_s)
                access_log.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": request.method,
                        "path": request.url.path,
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed_s * 1000, 2),
                        "client": request.client.host if request.client else None,
                    },
                )
            await send(message)

        await self.app(scope, receive, send_with_id)
