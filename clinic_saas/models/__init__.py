"""All models, imported here so that Alembic and the tenancy listeners see every table."""

from .base import TenantScoped, uuid7
from .clinic import Clinic
from .user import Invitation, Membership, Role, User

__all__ = ["Clinic", "Invitation", "Membership", "Role", "TenantScoped", "User", "uuid7"]
