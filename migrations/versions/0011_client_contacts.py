"""client contacts: indexes for finding a client already on file by email or phone

Revision ID: 0011_client_contacts
Revises: 0010_policy
Create Date: 2026-12-06 05:15:00.000000

Every page that creates a client first looks for one with the same email or phone number in the
clinic; without these, each look-up reads all of the clinic's clients.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0011_client_contacts"
down_revision = "0010_policy"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_client_email", "client", ["clinic_id", "email"])
    op.create_index("ix_client_phone", "client", ["clinic_id", "phone"])


def downgrade():
    op.drop_index("ix_client_phone", table_name="client")
    op.drop_index("ix_client_email", table_name="client")
