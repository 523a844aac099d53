"""The owner's numbers shaped for the page: a label and the text to show, per line."""

from __future__ import annotations

from dataclasses import dataclass

from ...scheduling.today import Numbers


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: str
    note: str = ""


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.1f}"


def figures(numbers: Numbers) -> list[Figure]:
    share = numbers.booked_share
    return [
        Figure("appointments", "Appointments", str(numbers.appointments)),
        Figure(
            "hours",
            "Booked / rostered hours",
            f"{_hours(numbers.booked_minutes)} / {_hours(numbers.rostered_minutes)}",
            f"({share}%)" if share is not None else "",
        ),
        Figure("new-clients", "New clients", str(numbers.new_clients)),
        Figure("no-shows", "No-shows", str(numbers.no_shows)),
    ]
