"""All models, imported here so that Alembic and the tenancy listeners see every table."""

from .appointment import Appointment, AppointmentStatus
from .base import TenantScoped, uuid7
from .client import Client
from .clinic import Clinic
from .memberships import (
    ClientMembership,
    ClientMembershipStatus,
    MembershipPeriod,
    MembershipPlan,
    MembershipPlanService,
    MembershipUse,
)
from .menu import (
    DEFAULT_CATEGORIES,
    Category,
    PriceTier,
    Service,
    ServicePrice,
    ServiceTherapist,
    TaxRate,
    TaxTreatment,
)
from .packages import Package, PackageRedemption, PackageSale, PackageService
from .roster import DayOverride, Shift, TimeOff, TimeOffKind
from .staff import CALENDAR_COLOURS, Location, Room, ServiceCategory, Technique, Therapist
from .user import Invitation, Membership, Role, User

__all__ = [
    "CALENDAR_COLOURS",
    "DEFAULT_CATEGORIES",
    "Appointment",
    "AppointmentStatus",
    "Category",
    "Client",
    "ClientMembership",
    "ClientMembershipStatus",
    "Clinic",
    "DayOverride",
    "Invitation",
    "Location",
    "Membership",
    "MembershipPeriod",
    "MembershipPlan",
    "MembershipPlanService",
    "MembershipUse",
    "Package",
    "PackageRedemption",
    "PackageSale",
    "PackageService",
    "PriceTier",
    "Role",
    "Room",
    "Service",
    "ServiceCategory",
    "ServicePrice",
    "ServiceTherapist",
    "Shift",
    "TaxRate",
    "TaxTreatment",
    "Technique",
    "TenantScoped",
    "Therapist",
    "TimeOff",
    "TimeOffKind",
    "User",
    "uuid7",
]
