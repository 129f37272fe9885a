"""Issue 17 finding 6: webhook and stream URLs may not reach the server's own network.

Loopback only. A refused URL is checked for its refusal and for the absence of any
connection: names resolve through a resolver the test injects, and where a refused address
is a loopback one, a listener there proves that nobody connected.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.alert.service import DeliveryJob
from app.alert.signing import KeyRing, new_salt
from app.alert.tasks import HttpxWebhookSender
from app.config import Settings
from app.db import session_scope
from app.detection_job import service as detection_job_service
from app.detection_job import tasks
from app.detection_job.errors import JobNotRunnable
from app.detection_job.models import DetectionJobStatus
from app.egress import EgressPolicy, parse_networks
from tests.app.conftest import Auth
from tests.app.detection_job.conftest import flown_sortie
from tests.factories import TEST_SECRET, World

PUBLIC = "93.184.216.34"  # a public address; never contacted (nothing is delivered to it)
REFUSED_URLS = [
    "http://127.0.0.1:8000/auth/me",
    "http://localhost.:8000/",
    "http://0x7f000001/hook",
    "http://2130706433/hook",
    "http://0177.0.0.1/hook",
    "http://127.1/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://10.1.2.3/hook",
    "http://192.168.1.10/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/hook",
    "http://0.0.0.0/hook",
    "http://metadata.example.net/hook",
    "http://rebinding.example.net/hook",
]
NAMES = {
    "hooks.example.net": [PUBLIC],
    "metadata.example.net": ["169.254.169.254"],
    "rebinding.example.net": [PUBLIC, "127.0.0.1"],
    "localhost.": ["127.0.0.1", "::1"],
}


def resolver(names: dict[str, list[str]]) -> EgressPolicy:
    def resolve(host: str, _port: int) -> Sequence[str]:
        if host not in names:
            raise socket.gaierror(socket.EAI_NONAME, "unknown in this test")
        return names[host]

    return EgressPolicy(resolver=resolve)


@pytest.fixture
def strict(app: FastAPI) -> EgressPolicy:
    """The default policy (public only), resolving names from ``NAMES``."""
    policy = resolver(NAMES)
    app.state.egress = policy
    return policy


@contextmanager
def listener(host: str = "127.0.0.1") -> Iterator[tuple[int, list[object]]]:
    """A TCP port that records every connection made to it."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind((host, 0))
    server.listen(8)
    server.settimeout(0.2)
    accepted: list[object] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, peer = server.accept()
            except OSError:
                continue
            accepted.append(peer)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join(2)
        server.close()


def delivery(url: str) -> DeliveryJob:
    secret = KeyRing(TEST_SECRET).secret(new_salt(), 1)
    return DeliveryJob(
        delivery_id=1, attempt=1, url=url, message_id="msg_test", body="{}", secrets=(secret,)
    )


# --- registration -----------------------------------------------------------------------


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_a_webhook_to_the_servers_own_network_is_refused(
    client: TestClient, auth: Auth, world: World, strict: EgressPolicy, url: str
) -> None:
    response = client.post(
        "/webhook-endpoints",
        headers=auth.role("admin"),
        json={"jurisdiction_id": world.demo, "url": url},
    )

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "DestinationRefused"


def test_a_webhook_to_a_public_host_is_accepted_and_cannot_be_moved_inside(
    client: TestClient, auth: Auth, world: World, strict: EgressPolicy
) -> None:
    created = client.post(
        "/webhook-endpoints",
        headers=auth.role("admin"),
        json={"jurisdiction_id": world.demo, "url": "https://hooks.example.net/waterguard"},
    )
    assert created.status_code == 201, created.text

    moved = client.patch(
        f"/webhook-endpoints/{created.json()['id']}",
        headers=auth.role("admin"),
        json={"url": "http://169.254.169.254/latest/meta-data/"},
    )

    assert moved.status_code == 422, moved.text
    assert moved.json()["error"] == "DestinationRefused"


def test_the_allow_list_admits_a_private_receiver(
    client: TestClient, auth: Auth, world: World, app: FastAPI
) -> None:
    app.state.egress = EgressPolicy(allow=parse_networks("10.8.0.0/16"))

    inside = client.post(
        "/webhook-endpoints",
        headers=auth.role("admin"),
        json={"jurisdiction_id": world.demo, "url": "http://10.8.1.20:8080/hook"},
    )
    beside = client.post(
        "/webhook-endpoints",
        headers=auth.role("admin"),
        json={"jurisdiction_id": world.demo, "url": "http://10.9.1.20:8080/hook"},
    )

    assert inside.status_code == 201, inside.text
    assert beside.status_code == 422, beside.text


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/auth/me",
        "rtsp://127.0.0.1:5432/",
        "rtsp://169.254.169.254/live",
        "rtmp://[::1]/live",
        "rtsp://pilot:secret@2130706433:554/live",
        "http://metadata.example.net/live",
    ],
)
def test_a_stream_on_the_servers_own_network_is_refused(
    client: TestClient,
    auth: Auth,
    world: World,
    session: Session,
    strict: EgressPolicy,
    url: str,
) -> None:
    sortie = flown_sortie(client, auth, world, session, land=False)

    response = client.post(
        f"/sorties/{sortie['id']}/detection-jobs/stream",
        headers=auth.role("operator"),
        json={"stream_url": url},
    )

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "DestinationRefused"


# --- connect time ---------------------------------------------------------------------------


def test_a_stream_is_checked_again_before_the_worker_opens_it(
    client: TestClient,
    auth: Auth,
    world: World,
    session: Session,
    app: FastAPI,
    settings: Settings,
) -> None:
    with listener() as (port, accepted):
        # Registered while the allow-list had loopback; the worker's policy no longer does.
        app.state.egress = EgressPolicy(allow=parse_networks("127.0.0.1/32"))
        sortie = flown_sortie(client, auth, world, session, land=False)
        created = client.post(
            f"/sorties/{sortie['id']}/detection-jobs/stream",
            headers=auth.role("operator"),
            json={"stream_url": f"http://127.0.0.1:{port}/live.mp4", "max_duration_s": 5},
        )
        assert created.status_code == 201, created.text
        job_id = created.json()["id"]

        outcome = tasks.run_job(
            app.state.sessionmaker, job_id, settings=settings, worker="egress-test"
        )

        assert outcome is DetectionJobStatus.failed
        assert accepted == []
    job = client.get(f"/detection-jobs/{job_id}", headers=auth.role("operator")).json()
    assert "egress policy" in job["error"]


def test_the_plan_refuses_a_name_that_now_resolves_inside(
    client: TestClient, auth: Auth, world: World, session: Session, app: FastAPI
) -> None:
    app.state.egress = resolver({"cam.example.net": [PUBLIC]})
    sortie = flown_sortie(client, auth, world, session, land=False)
    created = client.post(
        f"/sorties/{sortie['id']}/detection-jobs/stream",
        headers=auth.role("operator"),
        json={"stream_url": "rtsp://cam.example.net/live"},
    )
    assert created.status_code == 201, created.text
    rebound = resolver({"cam.example.net": ["127.0.0.1"]})

    with (
        session_scope(app.state.sessionmaker) as planning,
        pytest.raises(JobNotRunnable, match="egress policy"),
    ):
        detection_job_service.plan(
            planning, created.json()["id"], settings=app.state.settings, egress=rebound
        )


def test_a_webhook_whose_name_now_resolves_inside_is_not_connected() -> None:
    with listener() as (port, accepted):
        sender = HttpxWebhookSender(
            timeout_s=2, egress=resolver({"hooks.example.net": ["127.0.0.1"]})
        )
        try:
            result = sender.send(delivery(f"http://hooks.example.net:{port}/hook"), timestamp=0)
        finally:
            sender.close()

        assert result.status_code is None
        assert result.error is not None
        assert "egress policy" in result.error
        assert accepted == []


def test_a_webhook_connects_to_the_address_it_checked() -> None:
    # The name is unknown to the system resolver: only the checked answer can be used.
    with listener() as (port, accepted):
        policy = EgressPolicy(
            allow=parse_networks("127.0.0.1/32"),
            resolver=lambda _host, _port: ["127.0.0.1"],
        )
        sender = HttpxWebhookSender(timeout_s=2, egress=policy)
        try:
            result = sender.send(delivery(f"http://receiver.invalid:{port}/hook"), timestamp=0)
        finally:
            sender.close()

        assert len(accepted) == 1
        assert result.status_code is None  # the listener hangs up without an answer


class _Redirect(BaseHTTPRequestHandler):
    target = ""

    def do_POST(self) -> None:
        self.send_response(302)
        self.send_header("Location", self.target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_webhook_redirect_is_not_followed_into_a_refused_range() -> None:
    # The receiver (allowed) redirects to 127.0.0.2, loopback outside the allow-list.
    with listener("127.0.0.2") as (inner_port, accepted):
        _Redirect.target = f"http://127.0.0.2:{inner_port}/"
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        sender = HttpxWebhookSender(
            timeout_s=2, egress=EgressPolicy(allow=parse_networks("127.0.0.1/32"))
        )
        try:
            result = sender.send(
                delivery(f"http://127.0.0.1:{server.server_address[1]}/hook"), timestamp=0
            )
        finally:
            sender.close()
            server.shutdown()
            server.server_close()
            thread.join(2)

        assert result.status_code == 302
        assert not result.is_success
        assert accepted == []
