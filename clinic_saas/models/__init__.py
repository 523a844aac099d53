"""All models, imported here so that Alembic and the tenancy listeners see every table."""

from .appointment import Appointment, AppointmentStatus
from .audit import AppendOnlyError, AuditEvent
from .base import TenantScoped, uuid7
from .client import ERASED_NAME, ActivityLevel, Client
from .clinic import Clinic
from .clinical import (
    FlagAcknowledgement,
    ImmutableRecordError,
    IntakeLink,
    IntakeResponse,
    IntakeTemplate,
    NoteAmendment,
    NoteStatus,
    TreatmentNote,
)
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
from .submissions import FormSubmission
from .user import Invitation, Membership, Role, User, UserSession

__all__ = [
    "CALENDAR_COLOURS",
    "DEFAULT_CATEGORIES",
    "ERASED_NAME",
    "ActivityLevel",
    "AppendOnlyError",
    "Appointment",
    "AppointmentStatus",
    "AuditEvent",
    "Category",
    "Client",
    "ClientMembership",
    "ClientMembershipStatus",
    "Clinic",
    "DayOverride",
    "FlagAcknowledgement",
    "FormSubmission",
    "ImmutableRecordError",
    "IntakeLink",
    "IntakeResponse",
    "IntakeTemplate",
    "Invitation",
    "Location",
    "Membership",
    "MembershipPeriod",
    "MembershipPlan",
    "MembershipPlanService",
    "MembershipUse",
    "NoteAmendment",
    "NoteStatus",
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
    "TreatmentNote",
    "User",
    "UserSession",
    "uuid7",
]
