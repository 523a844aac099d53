"""The clinic's client records (a minimal first cut, until the clients feature lands)."""

from .records import ClientError, create_client, search_clients

__all__ = ["ClientError", "create_client", "search_clients"]
