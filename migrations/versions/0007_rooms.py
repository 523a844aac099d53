"""rooms: a room's live appointments never overlap

Revision ID: 0007_rooms
Revises: 0006_sessions
Create Date: 2026-12-06 03:50:00.000000

Each room gets the schedule_version that booking locks (as a therapist's), and on PostgreSQL an
exclusion constraint beside the therapist's. Rooms already double-booked are not changed here: the
upgrade stops and names them, for the clinic to move or un-room one of each pair first.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007_rooms"
down_revision = "0006_sessions"
branch_labels = None
depends_on = None

CLASHES = """
SELECT a.clinic_id, a.room_id, a.starts_at, b.starts_at
FROM appointment a JOIN appointment b
  ON a.clinic_id = b.clinic_id AND a.room_id = b.room_id AND a.id < b.id
 AND a.starts_at < b.blocked_until AND b.starts_at < a.blocked_until
WHERE a.status <> 'cancelled' AND b.status <> 'cancelled'
LIMIT 20
"""


def upgrade():
    with op.batch_alter_table("room", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("schedule_version", sa.Integer(), nullable=False, server_default="0")
        )
    if op.get_bind().dialect.name == "postgresql":
        clashes = op.get_bind().execute(sa.text(CLASHES)).all()
        if clashes:
            listed = "; ".join(
                f"clinic {clinic}, room {room}: {first:%Y-%m-%d %H:%M} and {second:%H:%M} UTC"
                for clinic, room, first, second in clashes
            )
            raise RuntimeError(
                "Some rooms are double-booked; move one appointment of each pair to another room "
                f"or time, then upgrade again: {listed}"
            )
        op.execute(
            "ALTER TABLE appointment ADD CONSTRAINT appointment_room_no_overlap EXCLUDE USING gist "
            "(clinic_id WITH =, room_id WITH =, tstzrange(starts_at, blocked_until) WITH &&) "
            "WHERE (status <> 'cancelled' AND room_id IS NOT NULL)"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE appointment DROP CONSTRAINT appointment_room_no_overlap")
    with op.batch_alter_table("room", schema=None) as batch_op:
        batch_op.drop_column("schedule_version")
