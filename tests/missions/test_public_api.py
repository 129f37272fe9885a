from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import missions

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {"app", "fastapi", "starlette", "sqlalchemy", "alembic", "pydantic", "detection"}


def test_every_public_name_exists() -> None:
    missing = [name for name in missions.__all__ if not hasattr(missions, name)]

    assert missing == []
    assert len(set(missions.__all__)) == len(missions.__all__)


def test_importing_the_core_pulls_in_no_web_database_or_other_core_module() -> None:
    code = (
        "import json, sys, missions\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )

    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout

    loaded = set(json.loads(out))
    assert loaded & FORBIDDEN == set()
