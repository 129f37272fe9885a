"""The security suite runs on the app test fixtures (a seeded copy of two districts)."""

from tests.app.conftest import (  # noqa: F401  (fixtures)
    app,
    auth,
    client,
    database_url,
    session,
    settings,
    template_db,
    world,
)
from tests.app.incident.conftest import reporter  # noqa: F401  (fixture)
