"""All models, imported here so that Alembic and the tenancy listeners see every table."""

from .appointment import Appointment, AppointmentStatus
from .base import TenantScoped, uuid7
from .client import Client
from .clinic import Clinic
from .menu import Service, ServiceTherapist
from .roster import DayOverride, Shift, TimeOff, TimeOffKind
from .staff import CALENDAR_COLOURS, Location, Room, ServiceCategory, Technique, Therapist
from .user import Invitation, Membership, Role, User

__all__ = [
    "CALENDAR_COLOURS",
    "Appointment",
    "AppointmentStatus",
    "Client",
    "Clinic",
    "DayOverride",
    "Invitation",
    "Location",
    "Membership",
    "Role",
    "Room",
    "Service",
    "ServiceCategory",
    "ServiceTherapist",
    "Shift",
    "Technique",
    "TenantScoped",
    "Therapist",
    "TimeOff",
    "TimeOffKind",
    "User",
    "uuid7",
]
