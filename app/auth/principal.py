"""Who is calling: a user or a device, bound to a jurisdiction subtree."""

from __future__ import annotations

from dataclasses import dataclass

from app.auth.models import Role


@dataclass(frozen=True, slots=True)
class Principal:
    kind: str  # "user" | "device"
    id: int
    name: str
    role: Role | None
    scopes: frozenset[str]
    jurisdiction_id: int
    jurisdiction_path: str
    ground_unit_id: int | None = None
    #: Overrides ``reporter_key`` for principals that are not rows of their kind (a detection
    #: job reports as a device, but its id is a job's, not a device token's).
    reporter: str | None = None

    def can_see(self, path: str) -> bool:
        """True when ``path`` (a jurisdiction id chain) lies in the caller's subtree."""
        return path.startswith(self.jurisdiction_path)

    @property
    def actor_name(self) -> str:
        return f"{self.kind}:{self.name}"

    @property
    def reporter_key(self) -> str:
        """Who reports, by id (names are neither unique nor stable): ``user:<id>``,
        ``device:<id>``, ``job:<id>``. Idempotency keys are scoped to it."""
        return self.reporter or f"{self.kind}:{self.id}"


@dataclass(frozen=True, slots=True)
class AccessRule:
    """What a route declares: the roles (users) and scopes (device tokens) it admits."""

    roles: frozenset[Role]
    scopes: frozenset[str]
    is_public: bool = False
