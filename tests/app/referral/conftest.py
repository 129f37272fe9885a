from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.app.conftest import Auth
from tests.app.incident.conftest import Reporter


@pytest.fixture
def reporter(client: TestClient, auth: Auth) -> Reporter:
    return Reporter(client, auth)
