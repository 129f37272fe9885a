"""Test databases: migrate and seed once, then hand each test a fresh copy.

SQLite (default): the seeded file is copied per test. PostgreSQL
(``WATERGUARD_TEST_DATABASE_URL=postgresql+psycopg://...``): a template database is built
once and each test gets ``CREATE DATABASE ... TEMPLATE``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

TEST_DATABASE_ENV = "WATERGUARD_TEST_DATABASE_URL"


def backend_url() -> str | None:
    return os.environ.get(TEST_DATABASE_ENV) or None


@contextmanager
def _autocommit(url: str) -> Iterator[object]:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def pg_create(url: str, name: str, *, template: str | None = None) -> str:
    base = make_url(url)
    with _autocommit(base.render_as_string(hide_password=False)) as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))  # type: ignore[attr-defined]
        clause = f' TEMPLATE "{template}"' if template else ""
        connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))  # type: ignore[attr-defined]
    return base.set(database=name).render_as_string(hide_password=False)


def pg_drop(url: str, name: str) -> None:
    with _autocommit(make_url(url).render_as_string(hide_password=False)) as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))  # type: ignore[attr-defined]


class TemplateDatabase:
    def __init__(self, workdir: Path) -> None:
        self.pg = backend_url()
        self.workdir = workdir
        self.template_name = f"wg_tmpl_{uuid.uuid4().hex[:8]}"
        self.template_file = workdir / "template.sqlite3"
        self.created: list[str] = []

    @property
    def template_url(self) -> str:
        if self.pg:
            return (
                make_url(self.pg)
                .set(database=self.template_name)
                .render_as_string(hide_password=False)
            )
        return f"sqlite:///{self.template_file}"

    def build_empty(self) -> str:
        if self.pg:
            return pg_create(self.pg, self.template_name)
        return self.template_url

    def fresh_copy(self, target_dir: Path) -> str:
        if self.pg:
            name = f"wg_t_{uuid.uuid4().hex[:10]}"
            self.created.append(name)
            return pg_create(self.pg, name, template=self.template_name)
        target = target_dir / "test.sqlite3"
        shutil.copyfile(self.template_file, target)
        return f"sqlite:///{target}"

    def release(self, url: str) -> None:
        if self.pg:
            name = make_url(url).database or ""
            pg_drop(self.pg, name)
            if name in self.created:
                self.created.remove(name)

    def close(self) -> None:
        if self.pg:
            for name in self.created:
                pg_drop(self.pg, name)
            pg_drop(self.pg, self.template_name)
