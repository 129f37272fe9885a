from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from app.auth.models import DeviceToken, RecoveryCode, RefreshToken, User
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

    def claim_totp_step(self, user_id: int, step: int) -> bool:
        """Accept a TOTP time step once: False when it (or a later one) was used before."""
        result = self.session.connection().execute(
            update(User)
            .where(
                User.id == user_id,
                or_(User.totp_last_step.is_(None), User.totp_last_step < step),
            )
            .values(totp_last_step=step)
        )
        return result.rowcount == 1

    def use_recovery_code(self, user_id: int, digest: str, at: datetime) -> bool:
        """Use up an unused recovery code of the user: False when there is none such."""
        result = self.session.connection().execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user_id,
                RecoveryCode.code_hash == digest,
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=at)
        )
        return result.rowcount == 1

    def replace_recovery_codes(self, user_id: int, digests: Sequence[str]) -> None:
        self.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
        self.session.add_all(RecoveryCode(user_id=user_id, code_hash=d) for d in digests)
        self.session.flush()


class RefreshTokenRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_by_digest(self, digest: str) -> RefreshToken | None:
        return self.session.scalar(select(RefreshToken).where(RefreshToken.token_hash == digest))

    def add(self, token: RefreshToken) -> None:
        self.session.add(token)
        self.session.flush()

    def claim(self, token_id: int, at: datetime) -> bool:
        """Mark a refresh token used, atomically: True for exactly one caller."""
        result = self.session.connection().execute(
            update(RefreshToken)
            .where(
                RefreshToken.id == token_id,
                RefreshToken.used_at.is_(None),
                RefreshToken.revoked_at.is_(None),
            )
            .values(used_at=at)
        )
        return result.rowcount == 1

    def revoke_user(self, user_id: int, at: datetime) -> None:
        """Revoke every refresh family of a user (their sessions end)."""
        self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=at)
        )

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
