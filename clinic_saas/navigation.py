"""The clinic's navigation: one list, filtered by the member's permissions."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, request

from .models import Role
from .permissions import can


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    permission: str
    only_for: frozenset[Role] | None = None  # a shortcut some roles want in the bar
    sections: tuple[str, ...] = ()  # other blueprints whose pages belong under this item

    @property
    def active(self) -> bool:
        current = request.endpoint or ""
        if current == self.endpoint:
            return True
        blueprint = current.split(".")[0]
        if blueprint in self.sections:
            return True
        same_blueprint = blueprint == self.endpoint.split(".")[0]
        return same_blueprint and not any(i.endpoint == current for i in CLINIC_NAV)


CLINIC_NAV = (
    NavItem("Home", "dashboard.home", "clinic.view"),
    NavItem("Appointments", "appointments.day", "appointments.view", sections=("notes",)),
    NavItem("My schedule", "appointments.mine", "appointments.attend", frozenset({Role.THERAPIST})),
    NavItem("Clients", "clients.index", "clients.view", sections=("intake", "records")),
    NavItem("Roster", "roster.week", "roster.view"),
    NavItem("Menu", "menu.index", "menu.view", sections=("packages",)),
    NavItem("Sales", "sales.index", "sales.manage"),
    NavItem("Invoices", "invoices.index", "invoices.view", sections=("organisations",)),
    NavItem("Till", "payments.till", "payments.take"),
    NavItem("Staff", "staff.index", "staff.view", sections=("therapists",)),
    NavItem(
        "Settings",
        "settings.edit",
        "clinic.settings",
        sections=("locations", "intake_forms", "audit"),
    ),
)


def clinic_nav() -> list[NavItem]:
    """The items this member may use (features not installed yet are left out)."""
    membership = g.get("membership")
    return [
        item
        for item in CLINIC_NAV
        if item.endpoint in current_app.view_functions
        and can(item.permission)
        and (item.only_for is None or (membership and membership.role in item.only_for))
    ]
