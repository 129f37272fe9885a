from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.config import Settings
from app.db import make_engine, make_sessionmaker, session_scope
from app.main import create_app
from app.migrate import upgrade
from app.seed import seed_demo
from tests.dbtemplate import TemplateDatabase
from tests.factories import (
    TEST_AUDIT_KEY,
    TEST_SECRET,
    World,
    access_token,
    load_world,
    seed_other_district,
)

ROLE_USERS = {
    "admin": "admin",
    "command": "command",
    "operator": "operator",
    "station_officer": "officer",
    "ground_unit": "unit",
    "grid_worker": "gridworker",
    "service_admin": "service",
}


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TemplateDatabase]:
    template = TemplateDatabase(tmp_path_factory.mktemp("db"))
    url = template.build_empty()
    upgrade(url)
    audit_service.install_listener()
    engine = make_engine(url)
    audit_service.use_key(engine, TEST_AUDIT_KEY)
    with session_scope(make_sessionmaker(engine)) as session:
        audit_service.set_actor(session, audit_service.Actor("test-seed", "system"))
        seed_demo(session)
        seed_other_district(session)
    engine.dispose()
    yield template
    template.close()


@pytest.fixture
def database_url(template_db: TemplateDatabase, tmp_path: Path) -> Iterator[str]:
    url = template_db.fresh_copy(tmp_path)
    yield url
    template_db.release(url)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        var_dir=tmp_path / "var",
        secret_key=TEST_SECRET,
        audit_key=TEST_AUDIT_KEY,
        log_json=False,
        log_level="WARNING",
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def session(app: FastAPI) -> Iterator[Session]:
    with app.state.sessionmaker() as db_session:
        yield db_session


@pytest.fixture
def world(session: Session) -> World:
    return load_world(session)


class Auth:
    def __init__(self, world: World) -> None:
        self.world = world

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {access_token(self.world.user_ids[username])}"}

    def role(self, role: str) -> dict[str, str]:
        return self.headers(ROLE_USERS[role])


@pytest.fixture
def auth(world: World) -> Auth:
    return Auth(world)
