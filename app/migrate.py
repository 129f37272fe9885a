"""Run Alembic migrations from code (CLI, tests, prestart)."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config

from alembic import command
from app.config import REPO_ROOT


def alembic_config(database_url: str) -> Config:
    for root in (REPO_ROOT, Path.cwd()):
        ini = root / "alembic.ini"
        if ini.exists():
            config = Config(str(ini))
            config.attributes["database_url"] = database_url
            return config
    raise FileNotFoundError("alembic.ini not found next to the package or in the current folder")


def upgrade(database_url: str, revision: str = "head") -> None:
    if database_url.startswith("sqlite:///") and not database_url.startswith("sqlite:////:"):
        path = Path(database_url.removeprefix("sqlite:///"))
        if str(path) not in {"", ":memory:"}:
            path.parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), revision)


def check(database_url: str) -> None:
    """Raise when the models differ from the migrated schema."""
    command.check(alembic_config(database_url))
