"""Migrations reach head on an empty database, and the models match them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from alembic import command
from app.db import make_engine
from app.migrate import alembic_config, check, upgrade
from app.models import Base
from tests.dbtemplate import TemplateDatabase, pg_create, pg_drop


@pytest.fixture
def empty_url(template_db: TemplateDatabase, tmp_path: Path) -> Iterator[str]:
    if template_db.pg:
        url = pg_create(template_db.pg, "wg_migration_test")
        yield url
        pg_drop(template_db.pg, "wg_migration_test")
    else:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"


def test_upgrade_head_builds_every_table_and_check_is_clean(empty_url: str) -> None:
    upgrade(empty_url)

    check(empty_url)
    engine = make_engine(empty_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(Base.metadata.tables) <= tables


def test_downgrade_to_base_and_up_again(empty_url: str) -> None:
    upgrade(empty_url)

    command.downgrade(alembic_config(empty_url), "base")
    engine = make_engine(empty_url)
    left = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    upgrade(empty_url)

    assert left == set()
    check(empty_url)
