"""Walks the route table: every route declares who may call it, and the declaration holds.

A new route fails here until it declares access (``require(...)`` or ``public()``) and,
where it takes an id or a jurisdiction, until the tables below say how to reach a record
of another district.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.deps import access_rule_of
from app.auth.models import Role
from app.auth.principal import AccessRule
from app.config import Settings
from app.detection_job.models import DetectionJob, DetectionJobSource
from app.dji.models import DjiGateway
from app.egress import parse_networks
from app.jurisdiction.models import Jurisdiction
from app.main import create_app
from app.sortie.models import Sortie
from app.waterway.models import FixedObject
from tests.app.conftest import ROLE_USERS, Auth
from tests.factories import (
    DEMO_METRICS_TOKEN,
    DEMO_UNIT_TOKEN,
    OTHER_SQUARE,
    TEST_AUDIT_KEY,
    TEST_SECRET,
    World,
    access_token,
    load_world,
)

# Routes FastAPI or Starlette add by themselves (schema, vendored docs files).
FRAMEWORK_PATHS = {"/openapi.json", "/static/apidocs"}

PUBLIC_ROUTES = {
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/auth/token"),
    ("POST", "/auth/refresh"),
}
# The dashboard's HTML shell and files (app.web): public; the data behind them needs a login.
PUBLIC_ROUTES |= {("GET", "/"), ("GET", "/web/{asset:path}")}
# A dock's route file (issue 14): a dock cannot log in; the short-lived signed link is the
# authority (tests/app/dji/test_flight_progress.py: a forged link finds nothing).
PUBLIC_ROUTES |= {("GET", "/dji/flight-files/{token}")}


def _rule(route: APIRoute) -> AccessRule | None:
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        rule = access_rule_of(dependency.call)
        if rule is not None:
            return rule
        pending.extend(dependency.dependencies)
    return None


def _route_table() -> list[tuple[str, str, APIRoute]]:
    """Every route the app serves (routers flattened), with its HTTP methods."""
    app = create_app(
        Settings(
            database_url="sqlite://",
            secret_key=TEST_SECRET,
            audit_key=TEST_AUDIT_KEY,
            log_json=False,
        )
    )
    table = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            for method in sorted(context.methods or ()):
                table.append((method, str(context.path), route))
        else:
            assert context.path in FRAMEWORK_PATHS, f"unexpected non-API route {context.path}"
    return table


ROUTES = _route_table()
IDS = [f"{method} {path}" for method, path, _ in ROUTES]
PROTECTED = [r for r in ROUTES if (r[0], r[1]) not in PUBLIC_ROUTES]
PROTECTED_IDS = [f"{method} {path}" for method, path, _ in PROTECTED]

# Path parameter name -> World attribute holding a record of the *other* district.
OTHER_RECORD = {
    "jurisdiction_id": "other_station",
    "unit_id": "other_unit",
    "grid_worker_id": "other_grid_worker",
    "user_id": "other_user",
    "device_token_id": "other_device_token",
    "waterway_id": "other_waterway",
    "no_fly_zone_id": "other_no_fly_zone",
    "drone_id": "other_drone",
    "mission_id": "other_mission",
    "incident_id": "other_incident",
    "alert_id": "other_alert",
    "endpoint_id": "other_webhook_endpoint",
    "delivery_id": "other_webhook_delivery",
    "person_id": "other_person",
    "referral_id": "other_referral",
    "task_id": "other_task",
    "evidence_id": "other_evidence",
    "district_id": "other",
}

# Path parameters naming shared catalogue entries, not jurisdiction-bound records.
CATALOGUE_PARAMS = {"model_id": "m30t"}

# Smallest valid bodies, with {placeholders} filled from World (other district's records).
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/units/{unit_id}/position"): {"lon": 106.2, "lat": 29.3},
    ("PATCH", "/units/{unit_id}"): {"phone": "12345"},
    ("PATCH", "/jurisdictions/{jurisdiction_id}"): {"name_en": "x"},
    ("PATCH", "/grid-workers/{grid_worker_id}"): {"name": "x"},
    ("PATCH", "/users/{user_id}"): {"display_name": "x"},
    ("POST", "/jurisdictions"): {
        "code": "walk-c",
        "kind": "community",
        "name_zh": "x",
        "name_en": "x",
        "parent_id": "{other_station}",
    },
    ("POST", "/units"): {"call_sign": "WALK-1", "station_id": "{other_station}"},
    ("POST", "/grid-workers"): {"name": "x", "community_id": "{other_community}"},
    ("POST", "/users"): {
        "username": "walker",
        "display_name": "x",
        "password": "walk-password-1",
        "role": "grid_worker",
        "jurisdiction_id": "{other_community}",
    },
    ("PATCH", "/waterways/{waterway_id}"): {"name": "x"},
    ("PATCH", "/drones/{drone_id}"): {"name": "x"},
    ("POST", "/waterways"): {
        "name": "x",
        "station_id": "{other_station}",
        "area": OTHER_SQUARE,
    },
    ("POST", "/no-fly-zones"): {
        "name": "x",
        "jurisdiction_id": "{other_station}",
        "area": OTHER_SQUARE,
    },
    ("POST", "/drones"): {
        "serial": "WALK0001",
        "name": "x",
        "model_id": "m30t",
        "station_id": "{other_station}",
    },
    ("POST", "/missions"): {
        "waterway_id": "{other_waterway}",
        "drone_model_id": "m30t",
        "pattern": "bank",
    },
    ("POST", "/missions/preview"): {
        "waterway_id": "{other_waterway}",
        "drone_model_id": "m30t",
        "pattern": "bank",
    },
    ("POST", "/sightings"): {
        "client_id": "walk-sighting-0001",
        "lon": 116.305,
        "lat": 39.905,
        "seen_at": datetime.now(UTC).isoformat(),
        "jurisdiction_id": "{other_station}",
    },
    ("POST", "/incidents/{incident_id}/warnings"): {"modes": ["light"]},
    ("POST", "/incidents/{incident_id}/resolve"): {"outcome": "dissuaded"},
    ("PUT", "/escalation-policies/{district_id}"): {
        "rungs": [{"target": "unit", "ack_timeout_s": 60}]
    },
    ("POST", "/webhook-endpoints"): {
        "jurisdiction_id": "{other_station}",
        "url": "http://127.0.0.1:9/walk",
    },
    ("PATCH", "/webhook-endpoints/{endpoint_id}"): {"description": "x"},
    ("POST", "/persons"): {
        "incident_id": "{other_incident}",
        "community_id": "{other_community}",
    },
    ("POST", "/referrals"): {"person_id": "{other_person}", "incident_id": "{other_incident}"},
    ("PUT", "/persons/{person_id}/legal-hold"): {
        "until": "2099-01-01T00:00:00Z",
        "reason": "walk case",
    },
    ("POST", "/follow-up-tasks/{task_id}/complete"): {"outcome": "x"},
    ("POST", "/follow-up-tasks/{task_id}/cancel"): {"reason": "x"},
    ("POST", "/device-tokens"): {
        "name": "x",
        "kind": "drone",
        "scopes": ["telemetry:write"],
        "jurisdiction_id": "{other_station}",
    },
}
# Writes that touch no jurisdiction-bound record chosen by the caller.
NOT_JURISDICTION_BOUND = {("POST", "/auth/logout")}
NOT_JURISDICTION_BOUND |= {("POST", "/auth/totp/enrol"), ("POST", "/auth/totp/confirm")}
# List routes -> World attribute of an other-district record that must not be listed.
LISTS_HIDE = {
    "/jurisdictions": "other_station",
    "/units": "other_unit",
    "/grid-workers": "other_grid_worker",
    "/users": "other_user",
    "/device-tokens": "other_device_token",
    "/waterways": "other_waterway",
    "/no-fly-zones": "other_no_fly_zone",
    "/drones": "other_drone",
    "/missions": "other_mission",
    "/incidents": "other_incident",
    "/sightings": "other_sighting",
    "/alerts": "other_alert",
    "/alerts/stream": "other_alert",
    "/webhook-endpoints": "other_webhook_endpoint",
    "/webhook-deliveries": "other_webhook_delivery",
    "/persons": "other_person",
    "/referrals": "other_referral",
    "/follow-up-tasks": "other_task",
}
# Read-only routes without ids that show no per-record data.
NOT_A_LIST = {"/auth/me", "/audit/verify", "/metrics", "/audit/events", "/drone-models"}
NOT_A_LIST |= {"/warning-messages"}
# Multipart uploads: the form names another district's record.
FORMS: dict[tuple[str, str], tuple[dict[str, Any], dict[str, tuple[str, bytes]]]] = {
    ("POST", "/waterways/import"): (
        {"station_id": "{other_station}"},
        {"file": ("lake.geojson", json.dumps(OTHER_SQUARE).encode())},
    ),
    ("POST", "/missions/import"): (
        {"waterway_id": "{other_waterway}"},
        {"file": ("route.waypoints", b"QGC WPL 110\n")},
    ),
    ("POST", "/incidents/{incident_id}/evidence"): (
        {"kind": "crop"},
        {"file": ("crop.jpg", b"\xff\xd8\xff")},
    ),
}


# Patrol operations, schedules, sorties and telemetry (issue 4).
OTHER_RECORD |= {
    "operation_id": "other_operation",
    "schedule_id": "other_schedule",
    "sortie_id": "other_sortie",
}
BODIES |= {
    ("POST", "/operations"): {
        "name": "x",
        "starts_on": "2026-07-01",
        "jurisdiction_id": "{other_station}",
    },
    ("POST", "/schedules"): {
        "name": "x",
        "mission_id": "{other_mission}",
        "rrule": "FREQ=DAILY",
        "starts_on": "2026-07-01",
        "window_start": "12:00",
        "window_end": "13:00",
        "every_min": 60,
    },
    ("POST", "/schedules/{schedule_id}/expand"): {
        "since": "2026-07-01T00:00:00Z",
        "until": "2026-07-02T00:00:00Z",
    },
    ("POST", "/sorties"): {
        "drone_id": "{other_drone}",
        "mission_id": "{other_mission}",
        "planned_start": "2026-07-01T04:00:00Z",
    },
    ("POST", "/sorties/{sortie_id}/transition"): {"to": "returning"},
    ("POST", "/sorties/{sortie_id}/telemetry"): {
        "samples": [{"at": "2026-07-01T04:00:00Z", "lon": 116.305, "lat": 39.905}],
    },
}
LISTS_HIDE |= {
    "/operations": "other_operation",
    "/schedules": "other_schedule",
    "/sorties": "other_sortie",
}
# Scoped like /sorties, but shaped as groups or an event backlog (tests/app/sortie checks them).
NOT_A_LIST |= {"/sorties/calendar", "/sorties/live"}
FORMS |= {
    ("POST", "/sorties/{sortie_id}/srt"): (
        {},
        {
            "file": (
                "clip.SRT",
                b"1\n00:00:00,000 --> 00:00:00,040\n[latitude: 39.905] [longitude: 116.305]\n",
            )
        },
    ),
}


# Detection jobs (issue 5): the seed has none, so the walk adds one to the other district.
@dataclass(frozen=True)
class WalkWorld(World):
    other_detection_job: int = 0
    other_dji_gateway: int = 0
    other_fixed_object: int = 0


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The walk registers a webhook on 127.0.0.1:9 and a stream on 192.0.2.1; neither is opened.
    allow = list(parse_networks("127.0.0.1/32, 192.0.2.0/24"))
    return settings.model_copy(update={"egress_allow": allow})


@pytest.fixture
def world(session: Session) -> WalkWorld:
    base = load_world(session)
    sortie = session.get(Sortie, base.other_sortie)
    assert sortie is not None
    job = DetectionJob(
        sortie_id=sortie.id,
        station_id=sortie.station_id,
        source=DetectionJobSource.stream,
        stream_url="rtsp://192.0.2.1:8554/walk",
        created_by="walk",
    )
    session.add(job)
    gateway = DjiGateway(
        sn="OTHERDOCK01",
        name="other dock",
        model_key="3-3-0",
        station_id=base.other_station,
        mqtt_username="gw-OTHERDOCK01",
    )
    session.add(gateway)
    fixed = FixedObject(
        waterway_id=base.other_waterway, lon=116.305, lat=39.9, radius_m=5.0, proposed_by="walk"
    )
    session.add(fixed)
    session.commit()
    values = {f.name: getattr(base, f.name) for f in fields(World)}
    return WalkWorld(
        **values,
        other_detection_job=job.id,
        other_dji_gateway=gateway.id,
        other_fixed_object=fixed.id,
    )


OTHER_RECORD |= {
    "detection_job_id": "other_detection_job",
    "fixed_object_id": "other_fixed_object",
    "sighting_id": "other_sighting",
}
CATALOGUE_PARAMS |= {"kind": "crop"}
BODIES |= {
    ("POST", "/waterways/{waterway_id}/fixed-objects"): {"lon": 116.305, "lat": 39.9},
    ("POST", "/waterways/{waterway_id}/fixed-objects/{fixed_object_id}/decision"): {
        "status": "confirmed"
    },
}
BODIES |= {
    ("POST", "/sorties/{sortie_id}/detection-jobs/stream"): {
        "stream_url": "rtsp://192.0.2.1:8554/live"
    },
}
FORMS |= {
    ("POST", "/sorties/{sortie_id}/detection-jobs"): (
        {},
        {"file": ("clip.mp4", b"\x00\x00\x00\x18ftypmp42")},
    ),
}

# Operators' verdicts on evidence (issue 16): the other district's evidence is out of reach.
BODIES |= {("PUT", "/evidence/{evidence_id}/verdict"): {"verdict": "person"}}

# DJI gateways (issue 14): admin only; the walk adds one to the other district.
OTHER_RECORD |= {"gateway_id": "other_dji_gateway"}
BODIES |= {
    ("POST", "/dji/gateways"): {
        "sn": "WALKDOCK01",
        "name": "x",
        "model_key": "3-3-0",
        "station_id": "{other_station}",
    },
}
LISTS_HIDE |= {"/dji/gateways": "other_dji_gateway"}
# Warnings from the air (issue 14): incident- and district-bound.
BODIES |= {
    ("POST", "/dji/incidents/{incident_id}/speaker"): {"message_key": "deep_water"},
    ("POST", "/dji/incidents/{incident_id}/searchlight"): {"mode": "strobe"},
    ("PUT", "/dji/auto-warn-policies/{district_id}"): {"enabled": True},
}

# Aggregates and exports (app.stats, app.report): no per-record lists; their jurisdiction
# scoping (other district neither counted nor reachable) is tested in tests/app/stats.
NOT_A_LIST |= {"/stats/summary", "/stats/daily", "/stats/hourly", "/stats/hot-spots"}
NOT_A_LIST |= {"/stats/stations"}
NOT_A_LIST |= {"/reports/summary", "/reports/incidents", "/reports/sightings", "/reports/season"}


def _fill(value: Any, world: World) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, str) and re.fullmatch(r"\{\w+\}", value):
        return getattr(world, value[1:-1])
    return value


def _url(path: str, world: World) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in CATALOGUE_PARAMS:
            return CATALOGUE_PARAMS[name]
        assert name in OTHER_RECORD, f"{path}: add {name} to OTHER_RECORD"
        return str(getattr(world, OTHER_RECORD[name]))

    return re.sub(r"\{(\w+)\}", replace, path)


def _call(client: TestClient, method: str, path: str, world: World, headers: dict[str, str]) -> Any:
    if (method, path) in FORMS:
        form, files = FORMS[(method, path)]
        fields = {k: str(v) for k, v in _fill(form, world).items()}
        return client.post(_url(path, world), data=fields, files=files, headers=headers)
    body = _fill(BODIES.get((method, path)), world)
    if method in {"POST", "PATCH", "PUT"} and body is None:
        body = {}
    return client.request(method, _url(path, world), json=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "route"), ROUTES, ids=IDS)
def test_route_declares_who_may_call_it(method: str, path: str, route: APIRoute) -> None:
    rule = _rule(route)

    assert rule is not None, f"{method} {path} declares no access: add require(...) or public()"
    assert rule.is_public == ((method, path) in PUBLIC_ROUTES), f"{method} {path}"


@pytest.mark.parametrize(("method", "path", "route"), PROTECTED, ids=PROTECTED_IDS)
def test_anonymous_callers_get_401(
    client: TestClient, world: World, method: str, path: str, route: APIRoute
) -> None:
    response = _call(client, method, path, world, headers={})

    assert response.status_code == 401, response.text
    assert response.json()["error"] == "Unauthorized"


@pytest.mark.parametrize(("method", "path", "route"), PROTECTED, ids=PROTECTED_IDS)
def test_wrong_roles_and_scopes_get_403(
    client: TestClient, world: World, auth: Auth, method: str, path: str, route: APIRoute
) -> None:
    rule = _rule(route)
    assert rule is not None
    assert not rule.is_public
    wrong = [role for role in Role if role not in rule.roles]
    devices = {
        DEMO_METRICS_TOKEN: "metrics:read",
        DEMO_UNIT_TOKEN: "unit:position",
    }

    for role in wrong:
        response = _call(client, method, path, world, auth.role(role.value))
        assert response.status_code == 403, (role, response.text)
        assert response.json()["error"] == "Forbidden"
    for token, scope in devices.items():
        if scope in rule.scopes:
            continue
        response = _call(client, method, path, world, {"Authorization": f"Bearer {token}"})
        assert response.status_code == 403, (scope, response.text)


@pytest.mark.parametrize(("method", "path", "route"), PROTECTED, ids=PROTECTED_IDS)
def test_other_jurisdictions_are_out_of_reach(
    client: TestClient, world: World, auth: Auth, method: str, path: str, route: APIRoute
) -> None:
    rule = _rule(route)
    assert rule is not None
    assert not rule.is_public
    params = re.findall(r"\{(\w+)\}", path)
    has_id = any(name not in CATALOGUE_PARAMS for name in params)
    is_write = method in {"POST", "PATCH", "PUT", "DELETE"}
    if not has_id and is_write and (method, path) not in NOT_JURISDICTION_BOUND:
        assert (method, path) in BODIES or (method, path) in FORMS, (
            f"{method} {path}: add a body naming another district"
        )
    if not params and not is_write:
        assert path in LISTS_HIDE or path in NOT_A_LIST, f"{path}: add it to LISTS_HIDE"

    for role in sorted(rule.roles):
        headers = auth.role(role.value)
        response = _call(client, method, path, world, headers)
        if has_id or (is_write and ((method, path) in BODIES or (method, path) in FORMS)):
            assert response.status_code in {403, 404}, (role, response.text)
            assert response.json()["error"] != "RequestValidationError", response.text
        elif path in LISTS_HIDE:
            assert response.status_code == 200, response.text
            ids = {item["id"] for item in response.json()["items"]}
            assert getattr(world, LISTS_HIDE[path]) not in ids, role


def test_the_walk_covers_every_documented_operation() -> None:
    app = create_app(
        Settings(
            database_url="sqlite://",
            secret_key=TEST_SECRET,
            audit_key=TEST_AUDIT_KEY,
            log_json=False,
        )
    )
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }

    assert documented <= {(method, path) for method, path, _ in ROUTES}


def test_every_role_has_a_demo_user() -> None:
    assert set(ROLE_USERS) == {role.value for role in Role}


# The audit log (issue 17): rows of two districts; each admin reads only their own, the
# service admin reads all of them (service-wide rows too); metrics and verify are service-wide.
SERVICE_WIDE_ROUTES = {("GET", "/metrics"), ("GET", "/audit/verify")}


def test_service_wide_routes_admit_the_service_admin_only() -> None:
    for method, path, route in ROUTES:
        if (method, path) in SERVICE_WIDE_ROUTES:
            rule = _rule(route)
            assert rule is not None
            assert rule.roles == {Role.service_admin}, path


def test_the_audit_log_shows_each_district_admin_only_their_district(
    client: TestClient, world: World, auth: Auth, session: Session
) -> None:
    other_admin = {"Authorization": f"Bearer {access_token(world.user_ids['other-admin'])}"}
    for headers in (auth.role("admin"), other_admin):
        assert client.get("/units", headers=headers).status_code == 200
        assert client.get("/persons", headers=headers).status_code == 200
    audit_service.record(session, action="maintenance", resource_type="service")
    session.commit()

    def seen(headers: dict[str, str]) -> list[dict[str, Any]]:
        response = client.get("/audit/events?limit=500", headers=headers)
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    def district_of(jurisdiction_id: int | None) -> int | None:
        if jurisdiction_id is None:
            return None
        path = session.get(Jurisdiction, jurisdiction_id)
        assert path is not None
        return int(path.path.strip("/").split("/")[0])

    demo_sees = {district_of(row["jurisdiction_id"]) for row in seen(auth.role("admin"))}
    other_sees = {district_of(row["jurisdiction_id"]) for row in seen(other_admin)}
    service_sees = {district_of(row["jurisdiction_id"]) for row in seen(auth.role("service_admin"))}

    assert demo_sees == {world.demo}
    assert other_sees == {world.other}
    assert service_sees == {world.demo, world.other, None}
