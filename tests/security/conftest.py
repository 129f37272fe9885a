"""The security suite runs on the app fixtures (fresh demo database per test, both backends)."""

from tests.app.conftest import *  # noqa: F403
from tests.app.incident.conftest import reporter  # noqa: F401  (fixture)
