"""Property-based fuzzing of the whole API from its own OpenAPI schema, as every role.

Schemathesis generates valid and invalid requests for every operation (one test per
operation, found in the schema, so new routes are covered automatically); each request is
sent anonymously and as each role. No response may be a 5xx, use an undocumented status
code or content type, or break its response schema. More examples:
``WATERGUARD_FUZZ_EXAMPLES=200 pytest tests/app/test_api_fuzz.py``.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings

from app.config import Settings
from app.db import utcnow
from app.health import service as health_service
from app.main import create_app
from tests.app.conftest import ROLE_USERS, Auth
from tests.factories import TEST_AUDIT_KEY, TEST_SECRET

EXAMPLES = int(os.environ.get("WATERGUARD_FUZZ_EXAMPLES", "8"))


def _operation_labels() -> list[str]:
    app = create_app(
        Settings(
            database_url="sqlite://",
            secret_key=TEST_SECRET,
            audit_key=TEST_AUDIT_KEY,
            log_json=False,
        )
    )
    return [
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    ]


LABELS = _operation_labels()


def _checks() -> list[Any]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]


@pytest.mark.parametrize("label", LABELS)
def test_no_operation_fails_or_breaks_its_schema(app: FastAPI, auth: Auth, label: str) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operation = schema.find_operation_by_label(label)
    assert operation is not None, label
    checks = _checks()
    callers: list[dict[str, str]] = [{}, *(auth.role(role) for role in ROLE_USERS)]
    # A worker is alive (readiness answers 503 without one, by design; the fuzz looks for
    # answers that are wrong, not for a service without its worker).
    health_service.beat(app.state.sessionmaker, "worker:fuzz", now=utcnow())

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def fuzz(case: schemathesis.Case[Any]) -> None:
        for headers in callers:
            case.call_and_validate(headers=headers, checks=checks)

    fuzz()
