"""The clinic's client records: identity and contact, family links, search, merging duplicates."""

from .family import add_child, children_of, contact_for, guardian_of, link_child, unlink_child
from .merge import merge_clients, merge_problem
from .records import (
    ClientError,
    create_client,
    possible_duplicates,
    search_clients,
    update_client,
)

__all__ = [
    "ClientError",
    "add_child",
    "children_of",
    "contact_for",
    "create_client",
    "guardian_of",
    "link_child",
    "merge_clients",
    "merge_problem",
    "possible_duplicates",
    "search_clients",
    "unlink_child",
    "update_client",
]
