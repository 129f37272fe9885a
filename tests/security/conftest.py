"""The app fixtures of ``tests/app``: a fresh copy of the seeded database per test (SQLite, or
PostgreSQL when ``WATERGUARD_TEST_DATABASE_URL`` is set), the app, a client and tokens."""

from tests.app.conftest import (  # noqa: F401
    app,
    auth,
    client,
    database_url,
    session,
    settings,
    template_db,
    world,
)
