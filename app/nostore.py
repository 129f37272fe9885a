"""``Cache-Control: no-store`` on every answer to an authenticated request (issue 17).

Answers to a caller who sent credentials (a bearer token, or a signed media link's
``token``) may hold personal data: names, phone numbers, positions, photos. No browser,
proxy or shared cache may keep them. A route that sets its own ``Cache-Control`` keeps it.
A plain ASGI class, so streams pass through untouched apart from that one header.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NO_STORE = "no-store"


def _has_credentials(scope: Scope) -> bool:
    if "authorization" in Headers(scope=scope):
        return True
    query = scope.get("query_string", b"")
    return any(part.startswith(b"token=") for part in query.split(b"&"))


class NoStoreForCredentials:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_credentials(scope):
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "cache-control" not in headers:
                    headers["Cache-Control"] = NO_STORE
            await send(message)

        await self.app(scope, receive, send_no_store)
