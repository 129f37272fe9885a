"""deploy/compose.yaml cannot be started here (no Docker); its structure is checked instead:
the topology, health checks, secrets only from the environment, settings that exist, and an
SSE-friendly proxy."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.config import Settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
SECRET_WORDS = ("PASSWORD", "SECRET", "_KEY", "PASS")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def test_the_topology_is_complete(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("proxy", "api-1", "api-2", "worker", "beat", "postgres", "rabbitmq", "redis",
                 "minio"):  # fmt: skip
        assert name in services, name
    assert services["api-1"]["command"][:2] == ["waterguard", "serve"]
    assert services["api-2"]["command"] == services["api-1"]["command"]
    assert services["worker"]["command"][:2] == ["waterguard", "worker"]
    assert services["beat"]["command"] == ["waterguard", "beat"]
    assert "--queues" in services["detection-worker"]["command"]


def test_every_long_running_service_has_a_health_check(compose: dict[str, Any]) -> None:
    one_shot = {"migrate", "minio-setup"}
    for name, service in compose["services"].items():
        if name in one_shot:
            continue
        check = service.get("healthcheck")
        assert check, f"{name} has no health check"
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name


def test_the_app_waits_for_healthy_backing_services(compose: dict[str, Any]) -> None:
    for name in ("api-1", "api-2", "worker", "beat"):
        needs = compose["services"][name]["depends_on"]
        for backing in ("postgres", "rabbitmq", "redis"):
            assert needs[backing]["condition"] == "service_healthy", (name, backing)
        assert needs["migrate"]["condition"] == "service_completed_successfully"


def test_secrets_come_only_from_the_environment(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for key, value in _environment(service).items():
            if any(word in key for word in SECRET_WORDS) or "://" in value:
                literal = re.sub(r"\$\{[A-Z0-9_]+(:?[-?][^}]*)?\}", "", value)
                # URLs may carry a user name and host; never a password of their own.
                assert not re.search(r"://[^/@]*:[^/@$]+@", literal), (name, key)
                if any(word in key for word in SECRET_WORDS) and not key.endswith("_USER"):
                    assert value.startswith("${"), (name, key, value)
                    assert ":?" in value, (name, key, value)
    text = (DEPLOY / "compose.yaml").read_text()
    assert "${WATERGUARD_SECRET_KEY:?" in text
    assert "${POSTGRES_PASSWORD:?" in text


def test_the_waterguard_settings_named_exist(compose: dict[str, Any]) -> None:
    known = {name.upper() for name in Settings.model_fields}
    named = {
        key.removeprefix("WATERGUARD_")
        for service in compose["services"].values()
        for key in _environment(service)
        if key.startswith("WATERGUARD_")
    }
    assert named
    assert sorted(named - known - {"IMAGE", "HTTP_PORT", "WORKER_CONCURRENCY"}) == []


def test_the_proxy_spreads_requests_and_does_not_buffer_streams() -> None:
    conf = (DEPLOY / "nginx.conf").read_text()
    upstream = re.search(r"upstream waterguard_api \{(.*?)\}", conf, re.S)
    assert upstream is not None
    assert re.findall(r"server (api-\d):8000", upstream.group(1)) == ["api-1", "api-2"]
    sse = re.search(r"location ~ \^/\(alerts/stream\|sorties/live\)\$ \{(.*?)\}", conf, re.S)
    assert sse is not None
    block = sse.group(1)
    assert "proxy_buffering off;" in block
    read_timeout_s = int(re.search(r"proxy_read_timeout (\d+)s;", block).group(1))  # type: ignore[union-attr]
    assert read_timeout_s > Settings.model_fields["sse_max_connection_s"].default
    assert conf.count("{") == conf.count("}")


def test_the_example_env_names_every_required_variable(compose: dict[str, Any]) -> None:
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", (DEPLOY / "compose.yaml").read_text()))
    offered = {
        line.split("=", 1)[0]
        for line in (DEPLOY / "example.env").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert required
    assert required <= offered
