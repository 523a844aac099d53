"""policy: the clinic's booking notice and its no-show and late-cancellation fees

Revision ID: 0010_policy
Revises: 0006_sessions
Create Date: 2026-12-06 03:45:00.000000

A fee is an amount in minor units or a share of the service's price in basis points, never both.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010_policy"
down_revision = "0009_phones"
branch_labels = None
depends_on = None

CHECKS = {
    "booking_notice_range": "booking_notice_hours BETWEEN 0 AND 336",
    "no_show_fee_one_kind": "no_show_fee_minor IS NULL OR no_show_fee_bp IS NULL",
    "no_show_fee_range": "no_show_fee_minor >= 0 AND no_show_fee_bp BETWEEN 0 AND 10000",
    "late_fee_one_kind": "late_cancellation_fee_minor IS NULL OR late_cancellation_fee_bp IS NULL",
    "late_fee_range": (
        "late_cancellation_fee_minor >= 0 AND late_cancellation_fee_bp BETWEEN 0 AND 10000"
    ),
}


def upgrade():
    with op.batch_alter_table("clinic", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("booking_notice_hours", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("no_show_fee_minor", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("no_show_fee_bp", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("late_cancellation_fee_minor", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("late_cancellation_fee_bp", sa.Integer(), nullable=True))
    with op.batch_alter_table("clinic", schema=None) as batch_op:
        for name, condition in CHECKS.items():
            batch_op.create_check_constraint(op.f(f"ck_clinic_{name}"), condition)


def downgrade():
    with op.batch_alter_table("clinic", schema=None) as batch_op:
        for name in CHECKS:
            batch_op.drop_constraint(op.f(f"ck_clinic_{name}"), type_="check")
        batch_op.drop_column("late_cancellation_fee_bp")
        batch_op.drop_column("late_cancellation_fee_minor")
        batch_op.drop_column("no_show_fee_bp")
        batch_op.drop_column("no_show_fee_minor")
        batch_op.drop_column("booking_notice_hours")
