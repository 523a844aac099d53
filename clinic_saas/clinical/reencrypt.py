"""Key rotation: rewrite every encrypted clinical value under the newest CLINICAL_DATA_KEYS key.

This is platform-wide key maintenance, run by an operator (`flask reencrypt-clinical`) after
putting a new key in front of CLINICAL_DATA_KEYS. It works on the Table objects through a Core
connection, not through the ORM session, so the tenancy hooks do not apply: it crosses every
clinic, but it never interprets the data. Each stored Fernet token is rotated as it is
(crypto.rotate_token: decrypt with any listed key, encrypt with the first) without a JSON round
trip, and the plaintext is never looked at.

The encrypted columns are found by walking the metadata for EncryptedText / EncryptedJSON
columns, so a new encrypted column is covered without touching this module. Rows are read in
primary-key order, in batches, each batch in its own transaction: a value that no listed key can
decrypt stops the run with ReencryptionError, and what was rotated before it stays rotated
(readable with the newest key, which is listed). Running it again only rewrites values that are
not yet under the newest key, so it is safe to repeat.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy import Column, Table, Text, and_, bindparam, or_, select, type_coerce

from ..crypto import ClinicalKeyError, EncryptedJSON, EncryptedText, parse_keys, rotate_token
from ..extensions import db

BATCH_SIZE = 500


class ReencryptionError(RuntimeError):
    """A stored value cannot be decrypted with any key in CLINICAL_DATA_KEYS."""


@dataclass
class TableCount:
    table: str
    rewritten: int = 0  # values now under the newest key that were not before
    current: int = 0  # values already under the newest key, left as they were

    def __str__(self) -> str:
        return (
            f"{self.table}: {self.rewritten} value(s) re-encrypted, "
            f"{self.current} already under the newest key"
        )


def encrypted_columns() -> dict[Table, list[Column]]:
    """Every table holding clinical ciphertext, with its encrypted columns."""
    found: dict[Table, list[Column]] = {}
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, EncryptedText | EncryptedJSON)]
        if columns:
            found[table] = columns
    return found


def reencrypt_all(
    batch_size: int = BATCH_SIZE, report: Callable[[TableCount], None] | None = None
) -> list[TableCount]:
    """Rotate every encrypted value of every clinic to the newest key; counts per table."""
    newest = parse_keys(current_app.config["CLINICAL_DATA_KEYS"])[0]  # refuses a garbled setting
    counts = []
    for table, columns in encrypted_columns().items():
        count = _reencrypt_table(table, columns, newest, batch_size)
        counts.append(count)
        if report is not None:
            report(count)
    return counts


def _reencrypt_table(table: Table, columns: list[Column], newest, batch_size: int) -> TableCount:
    key = list(table.primary_key.columns)
    # Read and write the stored token as plain text: the column types would decrypt it.
    raw = [type_coerce(c, Text).label(c.name) for c in columns]
    update = (
        table.update()
        .where(*(k == bindparam(f"pk_{k.name}") for k in key))
        .values({c.name: bindparam(f"new_{c.name}", type_=Text) for c in columns})
    )
    count = TableCount(table.name)
    last = None
    while True:
        query = select(*key, *raw).order_by(*key).limit(batch_size)
        if last is not None:
            query = query.where(_after(key, last))
        with db.engine.begin() as connection:
            rows = connection.execute(query).all()
            changes = []
            for row in rows:
                values = {c.name: row._mapping[c.name] for c in columns}
                rotated = {}
                for name, token in values.items():
                    if token is None:
                        continue
                    if _is_current(newest, token):
                        count.current += 1
                        rotated[name] = token
                        continue
                    try:
                        rotated[name] = rotate_token(token)
                    except ClinicalKeyError as exc:
                        where = ", ".join(f"{k.name}={row._mapping[k.name]}" for k in key)
                        raise ReencryptionError(
                            f"{table.name}.{name} ({where}) cannot be decrypted with any key in "
                            "CLINICAL_DATA_KEYS: add the key it was written with and run again"
                        ) from exc
                    count.rewritten += 1
                if rotated != values:
                    changes.append(
                        {f"pk_{k.name}": row._mapping[k.name] for k in key}
                        | {f"new_{name}": rotated.get(name) for name in values}
                    )
            if changes:
                connection.execute(update, changes)
        if len(rows) < batch_size:
            return count
        last = [rows[-1]._mapping[k.name] for k in key]


def _is_current(newest, token: str) -> bool:
    try:
        newest.decrypt(token.encode("ascii"))
    except (InvalidToken, ValueError):
        return False
    return True


def _after(key: list[Column], last: list) -> object:
    """Rows after `last` in primary-key order (spelt out: row values are not portable)."""
    clauses = []
    for i, column in enumerate(key):
        equal = [key[j] == last[j] for j in range(i)]
        clauses.append(and_(*equal, column > last[i]))
    return or_(*clauses)
