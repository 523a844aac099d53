"""The one reviewed module allowed to hold raw SQL. Everything else goes through the ORM.

Keep every statement here small, constant (never built from input) and explained.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite ignores foreign keys unless asked, per connection: without this the composite keys
    that keep one clinic's rows from pointing at another's would not be checked on SQLite."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 5000")  # wait for the write lock instead of failing
        cursor.close()
