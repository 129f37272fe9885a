"""Finding 12: an open referral no longer keeps a person forever (a hard ceiling, with an
explicit, bounded, audited legal hold instead), and evidence follows a minor's
identification on its incident (frames stored by detection jobs come with
``shows_minor=false``, like the upload below)."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.db import session_scope, utcnow
from app.incident import evidence as incident_evidence
from app.incident.models import Evidence
from app.referral import service as referral_service
from app.storage import LocalStorage
from tests.app.conftest import Auth
from tests.app.incident.conftest import Reporter
from tests.factories import World
from tests.security.ops_fixtures import *  # noqa: F403  (fixtures)

DAY = timedelta(days=1)


def _person(client: TestClient, auth: Auth, world: World, incident_id: int, **extra: Any) -> int:
    response = client.post(
        "/persons",
        headers=auth.role("station_officer"),
        json={"incident_id": incident_id, "community_id": world.demo_community, **extra},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _refer(client: TestClient, auth: Auth, person_id: int, incident_id: int) -> None:
    response = client.post(
        "/referrals",
        headers=auth.role("station_officer"),
        json={"person_id": person_id, "incident_id": incident_id},
    )
    assert response.status_code == 201, response.text


def _purge_persons(app: FastAPI, *, days_later: float) -> None:
    with session_scope(app.state.sessionmaker) as session:
        referral_service.redact_expired(
            session, now=utcnow() + days_later * DAY, minor_days=30, adult_days=90, ceiling_days=180
        )


def _person_row(client: TestClient, auth: Auth, person_id: int) -> dict[str, Any]:
    response = client.get(f"/persons/{person_id}", headers=auth.role("command"))
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def test_an_open_referral_defers_redaction_only_up_to_the_ceiling(
    app: FastAPI, client: TestClient, auth: Auth, world: World, reporter: Reporter
) -> None:
    incident_id = reporter.incident()
    person_id = _person(client, auth, world, incident_id, is_minor=True, name="小明")
    _refer(client, auth, person_id, incident_id)  # the referral stays open

    _purge_persons(app, days_later=40)  # past the minors' 30 days, under the 180
    name_within = _person_row(client, auth, person_id)["name"]
    _purge_persons(app, days_later=181)

    assert name_within == "小明"
    assert _person_row(client, auth, person_id)["name"] == "<redacted>"


def test_a_legal_hold_is_explicit_bounded_audited_and_ends(
    app: FastAPI, client: TestClient, auth: Auth, world: World, reporter: Reporter
) -> None:
    incident_id = reporter.incident()
    person_id = _person(client, auth, world, incident_id, is_minor=True, name="小红")
    _refer(client, auth, person_id, incident_id)
    url = f"/persons/{person_id}/legal-hold"
    until = (utcnow() + 300 * DAY).isoformat()

    by_operator = client.put(
        url, headers=auth.role("operator"), json={"until": until, "reason": "case 2026-17"}
    )
    too_long = client.put(
        url,
        headers=auth.role("command"),
        json={"until": (utcnow() + 400 * DAY).isoformat(), "reason": "case 2026-17"},
    )
    held = client.put(
        url, headers=auth.role("command"), json={"until": until, "reason": "case 2026-17"}
    )
    _purge_persons(app, days_later=250)  # past the ceiling, inside the hold
    name_during = _person_row(client, auth, person_id)["name"]
    _purge_persons(app, days_later=301)

    assert by_operator.status_code == 403
    assert too_long.status_code == 422
    assert held.status_code == 200, held.text
    assert held.json()["legal_hold_reason"] == "case 2026-17"
    assert name_during == "小红"
    assert _person_row(client, auth, person_id)["name"] == "<redacted>"
    with app.state.sessionmaker() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.resource_type == "persons", AuditEvent.resource_id == str(person_id)
            )
        ).all()
    assert "legal_hold" in actions


def test_lifting_a_legal_hold_lets_retention_apply(
    app: FastAPI, client: TestClient, auth: Auth, world: World, reporter: Reporter
) -> None:
    incident_id = reporter.incident()
    person_id = _person(client, auth, world, incident_id, name="老王")
    url = f"/persons/{person_id}/legal-hold"
    client.put(
        url,
        headers=auth.role("admin"),
        json={"until": (utcnow() + 200 * DAY).isoformat(), "reason": "court order 88"},
    )

    _purge_persons(app, days_later=100)
    name_held = _person_row(client, auth, person_id)["name"]
    lifted = client.delete(url, headers=auth.role("admin"))
    again = client.delete(url, headers=auth.role("admin"))
    _purge_persons(app, days_later=100)

    assert name_held == "老王"
    assert lifted.status_code == 200
    assert lifted.json()["legal_hold_until"] is None
    assert again.status_code == 409
    assert _person_row(client, auth, person_id)["name"] == "<redacted>"


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (20, 90, 200)).save(out, format="JPEG")
    return out.getvalue()


def _frame(client: TestClient, auth: Auth, incident_id: int) -> int:
    response = client.post(
        f"/incidents/{incident_id}/evidence",
        headers=auth.role("operator"),
        files={"file": ("frame.jpg", _jpeg(), "image/jpeg")},
        data={"kind": "frame", "shows_minor": "false"},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _shows_minor(app: FastAPI, evidence_id: int) -> bool:
    with app.state.sessionmaker() as session:
        return bool(session.scalar(select(Evidence.shows_minor).where(Evidence.id == evidence_id)))


def test_evidence_follows_a_minor_identified_on_its_incident(
    app: FastAPI,
    client: TestClient,
    auth: Auth,
    world: World,
    reporter: Reporter,
) -> None:
    incident_id = reporter.incident()
    before = _frame(client, auth, incident_id)
    flag_before = _shows_minor(app, before)
    _person(client, auth, world, incident_id, is_minor=True)
    after = _frame(client, auth, incident_id)

    with session_scope(app.state.sessionmaker) as session:
        purged = incident_evidence.purge_evidence(
            session,
            now=utcnow() + 40 * DAY,
            storage=LocalStorage(app.state.settings.var_dir / "media"),
            minor_days=30,
            adult_days=90,
        )

    assert flag_before is False
    assert _shows_minor(app, before) is True
    assert _shows_minor(app, after) is True
    assert purged >= 2  # kept for the minors' 30 days, not the adults' 90


def test_a_minor_referred_for_an_incident_flags_that_incidents_evidence(
    app: FastAPI, client: TestClient, auth: Auth, world: World, reporter: Reporter
) -> None:
    first = reporter.incident()
    person_id = _person(client, auth, world, first, is_minor=True)
    second = reporter.incident(lon=106.262, lat=29.2975)  # on the river, 290 m from the first
    frame = _frame(client, auth, second)
    flag_before = _shows_minor(app, frame)

    _refer(client, auth, person_id, second)

    assert first != second
    assert flag_before is False
    assert _shows_minor(app, frame) is True
