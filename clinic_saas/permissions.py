"""Who may do what: one table from roles to permissions, and one way for a view to declare its need.

A view says what it needs with @requires("permission") (inside a clinic), @account_required (any
logged-in user, no clinic) or @public. On a MethodView each HTTP method declares its own (GET
`invoices.view`, POST `invoices.manage`), by decorating the method; a declaration on the class
covers the methods that declare nothing. The check itself runs once, centrally, before every
request, after tenancy.py has bound the clinic; a method that declares nothing is refused (fail
closed), and a test walks every method of every URL rule so that such a view never ships.

The object-level rules (may this member attend or treat this appointment) live here too, beside
the table, so that pages and the API answer alike.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, abort, current_app, g, redirect, request, url_for
from flask_login import current_user

from .models import Appointment, Role, Therapist

OWNER, MANAGER, RECEPTIONIST, THERAPIST = (
    Role.OWNER,
    Role.MANAGER,
    Role.RECEPTIONIST,
    Role.THERAPIST,
)
EVERYONE = frozenset(Role)

PERMISSIONS: dict[str, frozenset[Role]] = {
    "clinic.view": EVERYONE,
    "clinic.settings": frozenset({OWNER}),
    "staff.view": frozenset({OWNER, MANAGER}),
    "staff.manage": frozenset({OWNER}),
    "locations.manage": frozenset({OWNER}),
    "roster.view": EVERYONE,
    "roster.manage": frozenset({OWNER, MANAGER}),
    "appointments.view": EVERYONE,
    "appointments.manage": frozenset({OWNER, MANAGER, RECEPTIONIST}),
    # Book a client into one's own calendar (a therapist's next visit with a client); with
    # appointments.manage, into anyone's. The booking domain refuses a therapist the others.
    "appointments.book_own": EVERYONE,
    # Check in and complete: therapists only their own appointments (checked in the view).
    "appointments.attend": EVERYONE,
    "menu.view": EVERYONE,
    # Services, prices, tax rates, packages and plans: never receptionists or therapists.
    "menu.manage": frozenset({OWNER, MANAGER}),
    "sales.manage": frozenset({OWNER, MANAGER, RECEPTIONIST}),  # sell packages, enrol, redeem
    "sales.refund": frozenset({OWNER, MANAGER}),
    # Client records: contact details, family links, intake completeness (never its content).
    # Invoices and payments: the desk bills and takes payments; giving money back, voiding and
    # seeing other staff members' tills is for owners and managers.
    "invoices.view": frozenset({OWNER, MANAGER, RECEPTIONIST}),
    "invoices.manage": frozenset({OWNER, MANAGER, RECEPTIONIST}),
    "invoices.void": frozenset({OWNER, MANAGER}),
    "organisations.manage": frozenset({OWNER, MANAGER, RECEPTIONIST}),
    "payments.take": frozenset({OWNER, MANAGER, RECEPTIONIST}),
    "payments.refund": frozenset({OWNER, MANAGER}),
    "payments.till_all": frozenset({OWNER, MANAGER}),
    "clients.view": EVERYONE,
    "clients.manage": frozenset({OWNER, MANAGER, RECEPTIONIST}),
    "clients.merge": frozenset({OWNER, MANAGER}),
    "clients.export": frozenset({OWNER, MANAGER}),
    "clients.erase": frozenset({OWNER}),
    # Send an intake link or open the form at the desk: it shows no answers.
    "intake.send": EVERYONE,
    "intake.templates": frozenset({OWNER}),
    "audit.view": frozenset({OWNER}),
    # Clinical content (intake answers, red flags, treatment notes): never receptionists.
    "clinical.read": frozenset({OWNER, MANAGER, THERAPIST}),
    "clinical.write": frozenset({THERAPIST, OWNER}),
}

ACCOUNT = "account"  # any logged-in user, outside a clinic
PUBLIC = "public"  # anyone
PLATFORM = "platform"  # the SaaS operator
_ATTR = "required_permission"


def requires(permission: str) -> Callable:
    """Declare the permission a clinic view needs (checked centrally, before the view runs)."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    return _declare(permission)


def _declare(permission: str) -> Callable:
    def decorator(view):
        setattr(view, _ATTR, permission)
        return view

    return decorator


public = _declare(PUBLIC)
account_required = _declare(ACCOUNT)
platform_operator_required = _declare(PLATFORM)


def role_can(role: Role | None, permission: str) -> bool:
    return role is not None and role in PERMISSIONS.get(permission, frozenset())


def can(permission: str) -> bool:
    """True when the current member's role in the bound clinic grants the permission."""
    membership = g.get("membership")
    return membership is not None and role_can(membership.role, permission)


def may_attend(appointment: Appointment) -> bool:
    """Therapists check in and complete only their own appointments; the desk does anyone's."""
    membership = g.get("membership")
    if membership is None or not can("appointments.attend"):
        return False
    if membership.role != Role.THERAPIST:
        return True
    return appointment.therapist.membership_id == membership.id


def may_book_with(therapist: Therapist) -> bool:
    """Book into this therapist's calendar: the desk anyone's, a therapist only their own."""
    membership = g.get("membership")
    if membership is None or not can("appointments.book_own"):
        return False
    return can("appointments.manage") or therapist.membership_id == membership.id


def may_treat(appointment: Appointment) -> bool:
    """Acknowledge flags and write the note: the appointment's own therapist, or the owner."""
    membership = g.get("membership")
    if membership is None or not can("clinical.write"):
        return False
    return membership.role == Role.OWNER or appointment.therapist.membership_id == membership.id


def declared_permission(endpoint: str, method: str = "GET") -> str | None:
    """What the view behind an endpoint declares for one HTTP method (HEAD is GET's)."""
    view = current_app.view_functions.get(endpoint)
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return getattr(view, _ATTR, None)
    method = method.lower()
    handler = getattr(view_class, method, None)
    if handler is None and method == "head":
        handler = getattr(view_class, "get", None)
    return getattr(handler, _ATTR, None) or getattr(view_class, _ATTR, None)


def _check_request_permission():
    if request.endpoint is None:
        return None  # 404 or 405, handled by Flask
    if request.endpoint == "static" or request.endpoint.endswith(".static"):
        return None
    if request.method == "OPTIONS":
        return None  # answered by Flask from the rule's methods; no view runs
    needed = declared_permission(request.endpoint, request.method)
    if needed is None:
        current_app.logger.error(
            "view %s declares no permission for %s: refused", request.endpoint, request.method
        )
        abort(404)
    if needed == PUBLIC:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if needed == ACCOUNT:
        return None
    if needed == PLATFORM:
        if not current_user.is_platform_operator:
            abort(404)
        return None
    if g.get("clinic") is None:
        abort(404)  # a clinic permission on a route outside /c/<slug>/ is a programming error
    if not can(needed):
        abort(403)
    return None


def init_app(app: Flask) -> None:
    app.before_request(_check_request_permission)
