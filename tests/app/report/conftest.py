from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.app.stats.season import Season, seed_season
from tests.factories import World


@pytest.fixture
def season(session: Session, world: World) -> Season:
    return seed_season(session, world)
