"""Staff of a clinic: invitations by email, roles, and deactivation that takes effect at once."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from .. import mail, tenancy
from ..extensions import db
from ..models import Clinic, Invitation, Membership, Role, User
from ..models.base import utcnow
from . import tokens
from .errors import AccountError
from .signup import normalise_email


def active_owner_count() -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.role == Role.OWNER, Membership.active.is_(True))
    )


def member_by_email(email: str) -> Membership | None:
    return db.session.scalar(
        select(Membership).join(Membership.user).where(User.email == normalise_email(email))
    )


def invite(clinic: Clinic, invited_by: Membership, email: str, role: Role) -> Invitation:
    """Invite someone by email; a new invitation to the same address replaces the open one."""
    email = normalise_email(email)
    existing = member_by_email(email)
    if existing is not None and existing.active:
        raise AccountError(f"{email} is already a member of {clinic.name}.")
    now = utcnow()
    for old in db.session.scalars(
        select(Invitation).where(
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
    ):
        old.revoked_at = now
    secret, secret_hash = tokens.new_secret()
    invitation = Invitation(
        email=email,
        role=role,
        token_hash=secret_hash,
        invited_by_id=invited_by.id,
        expires_at=now + current_app.config["INVITATION_MAX_AGE"],
    )
    db.session.add(invitation)
    db.session.flush()
    mail.send(
        email,
        f"You're invited to join {clinic.name} on clinic_saas",
        "invitation",
        clinic=clinic,
        invitation=invitation,
        inviter=invited_by.user,
        accept_url=mail.public_url("invitations.accept", token=secret),
    )
    return invitation


def revoke_invitation(invitation: Invitation) -> bool:
    """Withdraw an open invitation so its link stops working; False if it was no longer open."""
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        return False
    invitation.revoked_at = utcnow()
    db.session.flush()
    return True


def find_invitation(secret: str) -> Invitation | None:
    """Look an invitation link up across clinics (it is how a clinic is found), then bind it."""
    with tenancy.platform_access():
        invitation = db.session.scalar(
            select(Invitation).where(Invitation.token_hash == tokens.hash_secret(secret))
        )
    return invitation


def invitation_problem(invitation: Invitation | None) -> str | None:
    if invitation is None:
        return "This invitation link is not valid. Ask the clinic to send a new one."
    if invitation.accepted_at is not None:
        return "This invitation has already been accepted. Log in to continue."
    if invitation.revoked_at is not None:
        return "This invitation was withdrawn or replaced by a newer one. Check your inbox."
    if invitation.expires_at <= utcnow():
        return "This invitation has expired. Ask the clinic to send a new one."
    if not invitation.clinic.active:
        return "This clinic is no longer active."
    return None


def accept(invitation: Invitation, user: User, now: datetime | None = None) -> Membership:
    """Make `user` a member with the invited role (reactivating a former membership)."""
    if normalise_email(user.email) != invitation.email:
        raise AccountError("This invitation was sent to another email address.")
    membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
    if membership is None:
        membership = Membership(user=user, role=invitation.role)
        db.session.add(membership)
    else:
        membership.role = invitation.role
        membership.active = True
    invitation.accepted_at = now or utcnow()
    if user.email_confirmed_at is None:
        user.email_confirmed_at = invitation.accepted_at  # the link proved the inbox is theirs
    db.session.flush()
    return membership


def _refuse_if_last_owner(membership: Membership) -> None:
    if membership.role == Role.OWNER and membership.active and active_owner_count() <= 1:
        raise AccountError(
            "A clinic needs at least one active owner. Make someone else owner first."
        )


def change_role(membership: Membership, role: Role, acting: Membership) -> None:
    if membership.role == role:
        return
    if role != Role.OWNER:
        _refuse_if_last_owner(membership)
    membership.role = role
    if membership.id == acting.id:
        current_app.logger.info("member %s changed their own role to %s", acting.id, role)
    db.session.flush()


def set_active(membership: Membership, active: bool, acting: Membership) -> None:
    """Deactivate or reactivate a member; deactivation ends all of that user's sessions at once."""
    if membership.active == active:
        return
    if not active:
        if membership.id == acting.id:
            raise AccountError("You cannot deactivate yourself.")
        _refuse_if_last_owner(membership)
        membership.user.end_all_sessions()
    membership.active = active
    db.session.flush()
