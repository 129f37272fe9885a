"""Request body limits for every route, enforced before the body is parsed or the caller is
authenticated.

A plain ASGI class, not an ``@app.middleware("http")`` function: those wrap every request
(the telemetry stream's too) in a task and stream. This one looks at one header and, while the
body streams in, counts bytes; it never buffers anything.

Starlette/FastAPI's own ``max_body_size`` was considered: it checks a declared length only when
the app first reads the body or starts its response, answers in plain text outside the app's
error handlers, and takes a route's limit when the route is declared (the video limit is a
setting, known only when the app is built). This guard answers at once, in the error
envelope, from one table built with the settings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import envelope

#: Room in a multipart body for the part headers and the small form fields beside a file.
FORM_ALLOWANCE_BYTES = 1024 * 1024
_CLOSE = {"Connection": "close"}


@dataclass(frozen=True, slots=True)
class BodyRule:
    """A route whose body may be larger (or must be smaller) than the JSON default."""

    method: str
    path: re.Pattern[str]
    limit_bytes: int
    error: str = "PayloadTooLarge"
    what: str = "this request's body"


def route_rule(
    method: str,
    template: str,
    limit_bytes: int,
    *,
    error: str = "PayloadTooLarge",
    what: str = "uploads to this route",
) -> BodyRule:
    """A rule for a route template such as ``/sorties/{sortie_id}/srt``.

    >>> rule = route_rule("POST", "/sorties/{sortie_id}/srt", 10)
    >>> bool(rule.path.match("/sorties/7/srt")), bool(rule.path.match("/sorties/7/srt/x"))
    (True, False)
    """
    pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
    return BodyRule(method.upper(), re.compile(f"^{pattern}/?$"), limit_bytes, error, what)


class BodyTooLarge(HTTPException):
    """The body outgrew its limit while it streamed in. An ``HTTPException`` so that FastAPI
    lets it through its body parsing (any other error there becomes a 400) and the app's
    handler answers it in the envelope; the guard answers it itself should it get back."""

    def __init__(self, detail: str, *, error: str) -> None:
        super().__init__(status_code=413, detail=detail, headers=dict(_CLOSE))
        self.error = error


def answer_body_too_large(_request: Request, exc: Exception) -> Response:
    """The app's handler for ``BodyTooLarge`` (the envelope, with the route's error name)."""
    assert isinstance(exc, BodyTooLarge)
    return envelope(exc.error, exc.detail, 413, headers=dict(_CLOSE))


def _mib(size_bytes: int) -> str:
    return f"{size_bytes / 1024**2:.0f} MiB" if size_bytes >= 1024**2 else f"{size_bytes} bytes"


class BodyLimit:
    """ASGI middleware: every request body has a limit, the JSON default or its route's.

    A declared ``Content-Length`` over the limit is answered with a 413 before anything reads
    the body, parses it or authenticates the caller (``Connection: close``, so the unread body
    is dropped with the connection). A body sent without a length (chunked) is counted as it
    streams in and refused the moment it passes the limit; what the app had read by then is
    at most the limit.
    """

    def __init__(self, app: ASGIApp, *, default_bytes: int, rules: Sequence[BodyRule]) -> None:
        self.app = app
        self.default_bytes = default_bytes
        self.rules = tuple(rules)

    def rule_for(self, method: str, path: str) -> BodyRule | None:
        for rule in self.rules:
            if rule.method == method and rule.path.match(path):
                return rule
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rule = self.rule_for(scope["method"], scope["path"])
        limit = rule.limit_bytes if rule is not None else self.default_bytes
        error = rule.error if rule is not None else "PayloadTooLarge"
        what = rule.what if rule is not None else "request bodies"
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            detail = f"the body is {int(declared)} bytes; {what} may be at most {_mib(limit)}"
            await envelope(error, detail, 413, headers=dict(_CLOSE))(scope, receive, send)
            return

        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(
                        f"the body passed {limit} bytes; {what} may be at most {_mib(limit)}",
                        error=error,
                    )
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge as exc:
            if started:
                raise
            await envelope(exc.error, exc.detail, 413, headers=dict(_CLOSE))(scope, receive, send)
