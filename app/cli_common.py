"""What the modules of the ``waterguard`` command share: the consoles, the settings (exit 2
when they are wrong), errors as exits, and one committed unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.orm import Session

from app.config import ConfigError, Settings, get_settings

console = Console()
err = Console(stderr=True)


def settings_or_exit() -> Settings:
    try:
        settings = get_settings()
        settings.resolved_secret_key()
    except (ConfigError, ValidationError) as exc:
        err.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc
    return settings


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


@contextmanager
def unit_of_work(settings: Settings, actor: str) -> Iterator[Session]:
    """One committed transaction on the configured database; the engine is disposed after."""
    from app.audit import service as audit_service
    from app.db import make_engine, make_sessionmaker, session_scope

    audit_service.install_listener()
    engine = make_engine(settings.database_url)
    audit_service.use_key(engine, settings.resolved_audit_key())
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            audit_service.set_actor(session, audit_service.Actor(actor, "system"))
            yield session
    finally:
        engine.dispose()
