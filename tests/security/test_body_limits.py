"""Issue 17 finding 3 and issue 13: every route has a body limit, enforced from
``Content-Length`` and while the body streams in, before parsing or authentication; 413 in
the error envelope.

The requests go straight to the ASGI app with a ``receive`` that counts what the app pulls,
so a test can tell "refused before reading" from "read, then refused".
"""

from __future__ import annotations

import asyncio
import json
import typing
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI, params
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.types import Message

from app.config import Settings
from app.main import body_limits
from tests.app.conftest import Auth

CHUNK = b"[" + b"0," * 32_767 + b"0"  # 64 KiB of a JSON array that never ends
TWO_GIB = 2 * 1024**3

#: Every route that takes a file, with the id the test puts in its path.
UPLOAD_ROUTES = {
    "/sorties/{sortie_id}/detection-jobs": "/sorties/1/detection-jobs",
    "/waterways/import": "/waterways/import",
    "/missions/import": "/missions/import",
    "/sorties/{sortie_id}/srt": "/sorties/1/srt",
    "/incidents/{incident_id}/evidence": "/incidents/1/evidence",
}


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    chunks_read: int
    bytes_read: int = 0
    messages: list[Message] = field(default_factory=list)


def call(
    app: FastAPI,
    method: str,
    path: str,
    *,
    headers: dict[str, str],
    chunks: int,
    chunk: bytes = CHUNK,
) -> Answer:
    """One request through the ASGI app; the body is ``chunks`` times ``chunk``, pulled on
    demand, so ``chunks_read`` says how much of it the app asked for."""
    pulled = [0]
    sent: list[Message] = []

    async def receive() -> Message:
        if pulled[0] >= chunks:
            await asyncio.sleep(3600)  # a client that sends nothing more
        pulled[0] += 1
        return {"type": "http.request", "body": chunk, "more_body": pulled[0] < chunks}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    asyncio.run(asyncio.wait_for(app(scope, receive, send), timeout=60))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Answer(
        status=start["status"],
        body=json.loads(body) if body else {},
        headers={k.decode().lower(): v.decode() for k, v in start["headers"]},
        chunks_read=pulled[0],
        bytes_read=pulled[0] * len(chunk),
        messages=sent,
    )


def test_an_anonymous_json_body_declared_over_the_limit_is_refused_unread(app: FastAPI) -> None:
    # The review's request: 175 MB of JSON to POST /waterways with no credentials.
    answer = call(
        app,
        "POST",
        "/waterways",
        headers={"content-type": "application/json", "content-length": str(175_000_000)},
        chunks=2_670,
    )

    assert answer.status == 413
    assert answer.body["error"] == "PayloadTooLarge"
    assert "175000000 bytes" in answer.body["detail"]
    assert answer.headers["connection"] == "close"
    assert answer.chunks_read == 0


def test_a_json_body_without_a_length_is_cut_off_at_the_limit(
    app: FastAPI, settings: Settings
) -> None:
    # Chunked, no Content-Length: 8 MiB offered, the app stops pulling at the 1 MiB limit.
    answer = call(
        app,
        "POST",
        "/waterways",
        headers={"content-type": "application/json", "transfer-encoding": "chunked"},
        chunks=128,
    )

    assert answer.status == 413
    assert answer.body["error"] == "PayloadTooLarge"
    assert answer.bytes_read <= settings.max_json_body_bytes + len(CHUNK)


def test_a_json_body_without_a_length_through_the_client_gets_the_envelope(
    client: TestClient, auth: Auth, settings: Settings
) -> None:
    def body() -> typing.Iterator[bytes]:
        for _ in range(settings.max_json_body_bytes // len(CHUNK) + 2):
            yield CHUNK

    response = client.post(
        "/sightings",
        content=body(),
        headers={**auth.role("operator"), "Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json()["error"] == "PayloadTooLarge"


def test_a_body_within_the_limit_goes_on_to_authentication(app: FastAPI) -> None:
    small = b'{"name": "x"}'

    answer = call(
        app,
        "POST",
        "/waterways",
        headers={"content-type": "application/json", "content-length": str(len(small))},
        chunks=1,
        chunk=small,
    )

    assert answer.status == 401


def test_every_route_that_takes_a_file_has_its_own_limit(app: FastAPI) -> None:
    uploads = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        if any(isinstance(p.field_info, params.File) for p in route.dependant.body_params):
            uploads.add(str(context.path))

    assert uploads == set(UPLOAD_ROUTES)


@pytest.mark.parametrize("template", sorted(UPLOAD_ROUTES))
def test_an_upload_declared_over_its_limit_is_refused_before_its_body_is_read(
    app: FastAPI, settings: Settings, template: str
) -> None:
    # Issue 13: a claimed 2 GiB is answered at once, unauthenticated, nothing read.
    limit = next(
        r.limit_bytes for r in body_limits(settings) if r.path.match(UPLOAD_ROUTES[template])
    )
    declared = max(TWO_GIB, limit + 1)

    answer = call(
        app,
        "POST",
        UPLOAD_ROUTES[template],
        headers={
            "content-type": "multipart/form-data; boundary=x",
            "content-length": str(declared),
        },
        chunks=10,
    )

    assert answer.status == 413
    assert answer.body["error"] in {"PayloadTooLarge", "VideoTooLarge"}
    assert "MiB" in answer.body["detail"]
    assert answer.chunks_read == 0


@pytest.mark.parametrize("template", sorted(UPLOAD_ROUTES))
def test_an_upload_over_the_json_limit_but_within_its_own_is_not_refused_by_size(
    app: FastAPI, settings: Settings, template: str
) -> None:
    declared = settings.max_json_body_bytes + 1
    form = b"--x--\r\n"

    answer = call(
        app,
        "POST",
        UPLOAD_ROUTES[template],
        headers={
            "content-type": "multipart/form-data; boundary=x",
            "content-length": str(declared),
        },
        chunks=1,
        chunk=form,
    )

    assert answer.status != 413
    assert answer.chunks_read == 1
