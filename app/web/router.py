"""The web dashboard: an HTML shell and its static files, public (the data needs a login)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse

from app.auth.deps import public
from app.web import service as web_service

router = APIRouter(include_in_schema=False)
Anyone = Annotated[None, Depends(public())]

# Same-origin only; no inline scripts; the SVG map and Chart.js canvases need nothing else.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, _anyone: Anyone) -> HTMLResponse:
    settings = request.app.state.settings
    html = web_service.index_html(
        display_timezone=settings.display_timezone, version=request.app.version
    )
    return HTMLResponse(html, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


@router.get("/web/{asset:path}")
def dashboard_asset(asset: str, _anyone: Anyone) -> FileResponse:
    path, media_type = web_service.asset(asset)
    return FileResponse(
        path,
        media_type=media_type,
        headers={**SECURITY_HEADERS, "Cache-Control": "public, max-age=300"},
    )
