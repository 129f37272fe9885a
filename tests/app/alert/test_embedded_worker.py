"""With EMBEDDED_WORKER on, the server's own background thread delivers after commit."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.app.alert.receiver import Receiver
from tests.app.conftest import Auth
from tests.app.incident.conftest import Reporter
from tests.factories import World


def test_the_embedded_worker_delivers_a_dispatch_without_being_asked(
    settings: Settings, auth: Auth, world: World, receiver: Receiver
) -> None:
    app = create_app(settings.model_copy(update={"embedded_worker": True, "worker_poll_s": 0.2}))
    with TestClient(app) as client:
        created = client.post(
            "/webhook-endpoints",
            headers=auth.role("admin"),
            json={"jurisdiction_id": world.demo, "url": receiver.url},
        ).json()
        receiver.secrets.append(created["secret"])
        incident_id = Reporter(client, auth).incident()
        client.post(f"/incidents/{incident_id}/escalate", headers=auth.role("operator"))

        deadline = time.monotonic() + 20
        while not receiver.received:
            assert time.monotonic() < deadline, "the embedded worker delivered nothing"
            time.sleep(0.05)
    app.state.engine.dispose()

    (received,) = receiver.received[:1]
    assert all(received.signatures_valid.values())
    assert f'"incident_id":{incident_id}'.encode() in received.body
