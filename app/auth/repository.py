from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.auth.models import DeviceToken, RefreshToken, User
from app.jurisdiction.models import Jurisdiction


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)

    def get_by_username(self, username: str) -> User | None:
        return self.session.scalar(select(User).where(User.username == username))

    def jurisdiction_path(self, user: User) -> str:
        return (
            self.session.scalar(
                select(Jurisdiction.path).where(Jurisdiction.id == user.jurisdiction_id)
            )
            or ""
        )

    def jurisdiction_code(self, user: User) -> str:
        return (
            self.session.scalar(
                select(Jurisdiction.code).where(Jurisdiction.id == user.jurisdiction_id)
            )
            or ""
        )

    def list_under(self, path: str, *, limit: int, offset: int) -> tuple[Sequence[User], int]:
        query = (
            select(User)
            .join(Jurisdiction, Jurisdiction.id == User.jurisdiction_id)
            .where(Jurisdiction.path.startswith(path, autoescape=True))
        )
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(query.order_by(User.id).limit(limit).offset(offset)).all()
        return rows, total

    def add(self, user: User) -> User:
        self.session.add(user)
        self.session.flush()
        return user


class RefreshTokenRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_by_digest(self, digest: str) -> RefreshToken | None:
        return self.session.scalar(select(RefreshToken).where(RefreshToken.token_hash == digest))

    def add(self, token: RefreshToken) -> None:
        self.session.add(token)
        self.session.flush()

    def revoke_family(self, family: str, at: datetime) -> None:
        self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=at)
        )


class DeviceTokenRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, token_id: int) -> DeviceToken | None:
        return self.session.get(DeviceToken, token_id)

    def list_under(
        self, path: str, *, limit: int, offset: int
    ) -> tuple[Sequence[DeviceToken], int]:
        query = (
            select(DeviceToken)
            .join(Jurisdiction, Jurisdiction.id == DeviceToken.jurisdiction_id)
            .where(Jurisdiction.path.startswith(path, autoescape=True))
        )
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(query.order_by(DeviceToken.id).limit(limit).offset(offset))
        return rows.all(), total

    def jurisdiction_path(self, token: DeviceToken) -> str:
        return (
            self.session.scalar(
                select(Jurisdiction.path).where(Jurisdiction.id == token.jurisdiction_id)
            )
            or ""
        )

    def add(self, token: DeviceToken) -> DeviceToken:
        self.session.add(token)
        self.session.flush()
        return token
