"""Adding a client who may already be on file, on any page that adds one.

The page that finds possible duplicates (clients.possible_duplicates) re-renders its form with
macros/duplicates.html: "use this client" for each record on file, the first one chosen, and
"create a new client anyway" as the explicit other choice. Nothing is stored until the form comes
back with one of them.
"""

from __future__ import annotations

from flask import request

from ..models import Client
from ..tenancy import find

CHOICE = "existing"
NEW_ANYWAY = "new"


def chosen_existing() -> Client | None:
    """The record on file chosen on the offer, if that is what the form came back with."""
    value = request.form.get(CHOICE, "")
    if not value or value == NEW_ANYWAY:
        return None
    return find(Client, value)


def new_chosen_anyway() -> bool:
    return request.form.get(CHOICE) == NEW_ANYWAY
