"""The clinic's navigation: one list, filtered by the member's permissions."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request

from .permissions import can


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    permission: str

    @property
    def active(self) -> bool:
        current = request.endpoint or ""
        return current.split(".")[0] == self.endpoint.split(".")[0]


CLINIC_NAV = (
    NavItem("Home", "dashboard.home", "clinic.view"),
    NavItem("Appointments", "appointments.day", "appointments.view"),
    NavItem("Roster", "roster.week", "roster.view"),
    NavItem("Staff", "staff.index", "staff.view"),
    NavItem("Settings", "settings.edit", "clinic.settings"),
)


def clinic_nav() -> list[NavItem]:
    """The items this member may use (features not installed yet are left out)."""
    return [
        item
        for item in CLINIC_NAV
        if item.endpoint in current_app.view_functions and can(item.permission)
    ]
