"""intake_response.flag_level: the most serious red flag's level, in a plain column

Revision ID: 0008_flag_level
Revises: 0006_sessions
Create Date: 2026-12-06 03:45:00.000000

The desk is warned when it books a client whose latest intake has an absolute flag ("the
therapist must review it before treatment"), without reading clinical content. The level says no
more than has_flags already did: that a flag exists and whether it stops treatment, never which
condition; so it is a plain column, like has_flags.

Existing rows are backfilled at upgrade: the flags are decrypted with the keys the app is
configured with (CLINICAL_DATA_KEYS, through clinic_saas.crypto, as `flask db upgrade` runs inside
the app) and only the level is written. A row that cannot be read (no keys configured, a key
already removed) is left NULL: with has_flags true, NULL means "unknown", which the desk treats
as absolute (it is warned) and the therapist resolves by reading the flags themselves. Rows
without flags stay NULL, which with has_flags false means "no flag".
"""

import json

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008_flag_level"
down_revision = "0007_rooms"
branch_labels = None
depends_on = None

# Most serious first, as clinical/contraindications.FlagLevel orders them at this revision.
LEVELS = ("absolute", "local", "doctor", "caution")

intake_response = sa.table(
    "intake_response",
    sa.column("clinic_id", sa.Uuid()),
    sa.column("id", sa.Uuid()),
    sa.column("flags", sa.Text()),
    sa.column("has_flags", sa.Boolean()),
    sa.column("flag_level", sa.String(10)),
)


def _level(token: str, decrypt) -> str | None:
    try:
        flags = json.loads(decrypt(token))
    except Exception:  # a key removed, or no keys: leave the level unknown
        return None
    found = [f.get("level") for f in flags if isinstance(f, dict) and f.get("level") in LEVELS]
    return min(found, key=LEVELS.index, default=None)


def _backfill() -> None:
    try:  # the app's keys are read lazily, at the first row
        from clinic_saas.crypto import decrypt_text
    except ImportError:
        return
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(intake_response.c.clinic_id, intake_response.c.id, intake_response.c.flags).where(
            intake_response.c.has_flags.is_(True)
        )
    ).all()
    for clinic_id, response_id, token in rows:
        level = _level(token, decrypt_text) if token else None
        if level is None:
            continue
        connection.execute(
            sa.update(intake_response)
            .where(intake_response.c.clinic_id == clinic_id, intake_response.c.id == response_id)
            .values(flag_level=level)
        )


def upgrade():
    with op.batch_alter_table("intake_response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flag_level", sa.String(length=10), nullable=True))
    _backfill()


def downgrade():
    with op.batch_alter_table("intake_response", schema=None) as batch_op:
        batch_op.drop_column("flag_level")
