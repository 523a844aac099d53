"""form submission keys; one live membership per client and plan

Revision ID: 0005_submissions
Revises: 0004_clinical
Create Date: 2026-12-06 03:10:00.000000

"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005_submissions"
down_revision = "0004_clinical"
branch_labels = None
depends_on = None

_memberships = sa.table(
    "client_membership",
    sa.column("clinic_id", sa.Uuid()),
    sa.column("id", sa.Uuid()),
    sa.column("client_id", sa.Uuid()),
    sa.column("plan_id", sa.Uuid()),
    sa.column("status", sa.String()),
    sa.column("cancelled_on", sa.Date()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def _cancel_duplicate_live_memberships():
    """Enrolments that raced before this index: keep each client's first live one per plan and
    cancel the later ones (today), so that the unique index can be built. Nothing is deleted."""
    m = _memberships.c
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(m.clinic_id, m.id, m.client_id, m.plan_id)
        .where(m.status != "cancelled")
        .order_by(m.clinic_id, m.client_id, m.plan_id, m.created_at, m.id)
    ).all()
    seen = set()
    for row in rows:
        key = (row.clinic_id, row.client_id, row.plan_id)
        if key not in seen:
            seen.add(key)
            continue
        connection.execute(
            sa.update(_memberships)
            .where(m.clinic_id == row.clinic_id, m.id == row.id)
            .values(status="cancelled", cancelled_on=datetime.now(UTC).date())
        )


def upgrade():
    op.create_table(
        "form_submission",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_form_submission_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("clinic_id", "id", name=op.f("pk_form_submission")),
        sa.UniqueConstraint("clinic_id", "key", name=op.f("uq_form_submission_clinic_id_key")),
    )
    _cancel_duplicate_live_memberships()
    with op.batch_alter_table("client_membership", schema=None) as batch_op:
        batch_op.create_index(
            "uq_client_membership_live",
            ["clinic_id", "client_id", "plan_id"],
            unique=True,
            sqlite_where=sa.text("status != 'cancelled'"),
            postgresql_where=sa.text("status != 'cancelled'"),
        )


def downgrade():
    with op.batch_alter_table("client_membership", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_client_membership_live",
            sqlite_where=sa.text("status != 'cancelled'"),
            postgresql_where=sa.text("status != 'cancelled'"),
        )
    op.drop_table("form_submission")
