from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.db import SessionDep, utcnow
from app.errors import ERROR_RESPONSES, ErrorEnvelope
from app.report import service as report_service
from app.report.labels import Lang
from app.report.permissions import ReportReader
from app.report.service import DocumentFormat, Export, RowSet, TableFormat
from app.stats.params import StatsFilters

router = APIRouter(prefix="/reports", tags=["reports"], responses=ERROR_RESPONSES)

_BINARY = {"schema": {"type": "string", "format": "binary"}}
TABLE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "CSV (UTF-8 with BOM) or XLSX",
        "content": {"text/csv": _BINARY, report_service.MEDIA[TableFormat.xlsx]: _BINARY},
    }
}
DOCUMENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Printable season report, HTML or PDF",
        "content": {"text/html": _BINARY, "application/pdf": _BINARY},
    },
    503: {"model": ErrorEnvelope, "description": "No font for Chinese installed (PDF)"},
}
FormatTable = Annotated[TableFormat, Query(alias="format")]
Language = Annotated[Lang, Query()]


def _zone(request: Request) -> ZoneInfo:
    zone: ZoneInfo = request.app.state.settings.zone
    return zone


# The HTML report runs no script and loads nothing: say so to the browser.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _response(export: Export, *, inline: bool = False) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(
        export.content,
        media_type=export.media_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{export.filename}"',
            "Cache-Control": "no-store",
            "Content-Security-Policy": REPORT_CSP,
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/summary", response_class=Response, responses=TABLE_RESPONSES)
def export_summary(
    request: Request,
    filters: StatsFilters,
    session: SessionDep,
    principal: ReportReader,
    fmt: FormatTable = TableFormat.csv,
    lang: Language = Lang.zh,
) -> Response:
    export = report_service.export_summary(
        session, principal, filters, fmt=fmt, lang=lang, zone=_zone(request), now=utcnow()
    )
    return _response(export)


@router.get("/incidents", response_class=Response, responses=TABLE_RESPONSES)
def export_incidents(
    request: Request,
    filters: StatsFilters,
    session: SessionDep,
    principal: ReportReader,
    fmt: FormatTable = TableFormat.csv,
    lang: Annotated[Lang | None, Query()] = None,
) -> Response:
    export = report_service.export_rows(
        session,
        principal,
        filters,
        rows=RowSet.incidents,
        fmt=fmt,
        zone=_zone(request),
        lang=lang,
    )
    return _response(export)


@router.get("/sightings", response_class=Response, responses=TABLE_RESPONSES)
def export_sightings(
    request: Request,
    filters: StatsFilters,
    session: SessionDep,
    principal: ReportReader,
    fmt: FormatTable = TableFormat.csv,
    lang: Annotated[Lang | None, Query()] = None,
) -> Response:
    export = report_service.export_rows(
        session,
        principal,
        filters,
        rows=RowSet.sightings,
        fmt=fmt,
        zone=_zone(request),
        lang=lang,
    )
    return _response(export)


@router.get("/season", response_class=Response, responses=DOCUMENT_RESPONSES)
def export_season_report(
    request: Request,
    filters: StatsFilters,
    session: SessionDep,
    principal: ReportReader,
    fmt: Annotated[DocumentFormat, Query(alias="format")] = DocumentFormat.html,
    lang: Language = Lang.zh,
) -> Response:
    export = report_service.export_season(
        session, principal, filters, fmt=fmt, lang=lang, zone=_zone(request), now=utcnow()
    )
    return _response(export, inline=fmt is DocumentFormat.html)
