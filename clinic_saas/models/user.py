"""People who log in, and their membership of clinics."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import (
    LabelledEnum,
    TenantScoped,
    UTCDateTime,
    enum_column,
    tenant_reference,
    tenant_relationship,
    utcnow,
    uuid7,
)
from .clinic import Clinic


class Role(LabelledEnum):
    OWNER = "owner"
    MANAGER = "manager"
    RECEPTIONIST = "receptionist"
    THERAPIST = "therapist"


class User(db.Model):
    """One login for one person, whatever number of clinics they work for."""

    __tablename__ = "user_account"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_platform_operator: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    # Part of the session cookie's user id: bumping it ends every session of this user at once.
    session_epoch: Mapped[int] = mapped_column(default=0)
    # The clinic a signup asked for, created when the email is confirmed (accounts.signup).
    pending_clinic: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Flask-Login protocol
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}.{self.session_epoch}"

    def end_all_sessions(self) -> None:
        self.session_epoch += 1

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class UserSession(db.Model):
    """One logged-in browser, so that one session can end on the server and not only in its cookie.

    The signed session cookie carries a random secret; this row holds only its SHA-256 (a copy of
    the table opens no session). A request is logged in only while its row exists and has not
    expired: logging out deletes this session's row, "log out everywhere" and a password change
    delete all of the user's rows. `User.session_epoch` stays as the second lock, bumped with
    those and by deactivation, which end every session of a user at once. A person's sessions
    span clinics, so this table is not clinic-owned.
    """

    __tablename__ = "user_session"
    __table_args__ = (Index("ix_user_session_user_id", "user_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie's secret
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Slides forward while the session is used, as the cookie's own expiry does.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Membership(TenantScoped):
    """A user's place in one clinic: their role there, and whether it is still active."""

    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("clinic_id", "user_id"),
        Index("ix_membership_user_id", "user_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    role: Mapped[Role] = enum_column(Role)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    clinic: Mapped[Clinic] = relationship(lazy="joined", innerjoin=True)

    def __repr__(self) -> str:
        return f"<Membership {self.role} clinic={self.clinic_id} user={self.user_id}>"


class Invitation(TenantScoped):
    """An emailed offer to join a clinic with a role; the link carries a secret we store hashed."""

    __tablename__ = "invitation"
    __table_args__ = (tenant_reference("membership", "invited_by_id", ondelete="CASCADE"),)

    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[Role] = enum_column(Role)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    invited_by: Mapped[Membership] = tenant_relationship(
        "Invitation", "Membership", "invited_by_id"
    )
    clinic: Mapped[Clinic] = relationship(lazy="joined", innerjoin=True)

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and utcnow() < self.expires_at
