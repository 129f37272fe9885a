"""One error envelope for every non-2xx answer: ``{"error": "<Name>", "detail": ...}``."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("waterguard.errors")


class ErrorEnvelope(BaseModel):
    error: str
    detail: Any = None


class AppError(Exception):
    status_code: ClassVar[int] = 400
    headers: ClassVar[dict[str, str] | None] = None

    def __init__(self, detail: Any = None) -> None:
        super().__init__(detail)
        self.detail = detail


class BadRequest(AppError):
    status_code = 400


class Unauthorized(AppError):
    status_code = 401
    headers: ClassVar[dict[str, str] | None] = {"WWW-Authenticate": "Bearer"}


class Forbidden(AppError):
    status_code = 403


class NotFound(AppError):
    status_code = 404


class Conflict(AppError):
    status_code = 409


class Unprocessable(AppError):
    status_code = 422


class Locked(AppError):
    status_code = 423


class TooManyRequests(AppError):
    status_code = 429

    def __init__(self, detail: Any = None, *, retry_after_s: int = 60) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


_HTTP_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
}


def envelope(
    error: str, detail: Any, status_code: int, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": error, "detail": detail}, status_code=status_code, headers=headers
    )


def _json_safe_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    safe: list[dict[str, Any]] = []
    for err in exc.errors():
        item = {k: v for k, v in err.items() if k in {"type", "loc", "msg"}}
        if "input" in err:
            raw = err["input"]
            item["input"] = raw if isinstance(raw, str | int | float | bool | None) else None
        safe.append(item)
    return safe


# SQLSTATEs that mean "the database cannot take this now", not "this request is wrong":
# connection exceptions, read-only transaction (a standby), insufficient resources (disk
# full), operator intervention (shutting down).
_UNAVAILABLE_SQLSTATES = ("08", "25006", "53", "57P")


def database_unavailable(exc: BaseException) -> bool:
    """Whether a database error is the database being down, full or read-only."""
    if isinstance(exc, sa_exc.OperationalError | sa_exc.TimeoutError):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        sqlstate = str(getattr(exc.orig, "sqlstate", "") or "")
        return sqlstate.startswith(_UNAVAILABLE_SQLSTATES)
    return False


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        headers = dict(exc.headers or {})
        if isinstance(exc, TooManyRequests):
            headers["Retry-After"] = str(exc.retry_after_s)
        return envelope(type(exc).__name__, exc.detail, exc.status_code, headers or None)

    @app.exception_handler(RequestValidationError)
    def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return envelope("RequestValidationError", _json_safe_errors(exc), 422)

    @app.exception_handler(StarletteHTTPException)
    def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        name = _HTTP_NAMES.get(exc.status_code, "HTTPError")
        return envelope(name, exc.detail, exc.status_code, dict(exc.headers or {}) or None)

    @app.exception_handler(sa_exc.SQLAlchemyError)
    def _database(request: Request, exc: sa_exc.SQLAlchemyError) -> JSONResponse:
        if not database_unavailable(exc):
            raise exc  # a bug, not an outage: the catch-all below logs it as a 500
        log.warning(
            "database unavailable",
            extra={"path": request.url.path, "error": type(exc).__name__},
        )
        retry_after_s = getattr(request.app.state.settings, "db_retry_after_s", 5)
        return envelope(
            "DatabaseUnavailable",
            "the database is unavailable; retry shortly",
            503,
            {"Retry-After": str(retry_after_s)},
        )

    @app.exception_handler(Exception)
    def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
        return envelope("InternalServerError", "unexpected error; it has been logged", 500)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorEnvelope, "description": text}
    for code, text in {
        400: "Bad request",
        401: "Not authenticated",
        403: "Not allowed",
        404: "Not found",
        409: "Conflict",
        422: "Invalid input",
    }.items()
}
