"""billing: invoices, their payers and numbers, payments, refunds, card attempts, saved cards and
handled Stripe events; the clinic's invoice settings and Stripe account; membership renewals

Revision ID: 0012_billing
Revises: 0011_client_contacts
Create Date: 2026-12-06 05:15:19.644484

New tables only, and new clinic columns with defaults: nothing existing is rewritten.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012_billing"
down_revision = "0011_client_contacts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stripe_event",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_event")),
    )
    op.create_table(
        "document_counter",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "last_number >= 0", name=op.f("ck_document_counter_last_number_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_document_counter_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("clinic_id", "id", name=op.f("pk_document_counter")),
        sa.UniqueConstraint(
            "clinic_id", "kind", "year", name=op.f("uq_document_counter_clinic_id_kind_year")
        ),
    )
    op.create_table(
        "organisation",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("contact_name", sa.String(length=120), nullable=True),
        sa.Column("billing_email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("tax_registration", sa.String(length=40), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_organisation_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("clinic_id", "id", name=op.f("pk_organisation")),
        sa.UniqueConstraint("clinic_id", "name", name=op.f("uq_organisation_clinic_id_name")),
    )
    op.create_table(
        "invoice",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "issued",
                "part_paid",
                "paid",
                "void",
                name="invoicestatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column(
            "payer_kind",
            sa.Enum("client", "organisation", name="payerkind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("payer_client_id", sa.Uuid(), nullable=True),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("payer_name", sa.String(length=200), nullable=True),
        sa.Column("payer_email", sa.String(length=254), nullable=True),
        sa.Column("payer_address", sa.Text(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("prices_include_tax", sa.Boolean(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("void_reason", sa.String(length=200), nullable=True),
        sa.Column("net_minor", sa.Integer(), nullable=False),
        sa.Column("tax_minor", sa.Integer(), nullable=False),
        sa.Column("total_minor", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("disputed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(payer_kind = 'client' AND payer_client_id IS NOT NULL AND organisation_id IS NULL) OR (payer_kind = 'organisation' AND organisation_id IS NOT NULL AND payer_client_id IS NULL)",
            name=op.f("ck_invoice_one_payer"),
        ),
        sa.CheckConstraint(
            "(status = 'draft') = (number IS NULL)", name=op.f("ck_invoice_numbered_once_issued")
        ),
        sa.CheckConstraint(
            "due_on IS NULL OR issued_on IS NULL OR due_on >= issued_on",
            name=op.f("ck_invoice_due"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id", "client_id"],
            ["client.clinic_id", "client.id"],
            name=op.f("fk_invoice_clinic_id_client_id_client"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id", "created_by_id"],
            ["membership.clinic_id", "membership.id"],
            name=op.f("fk_invoice_clinic_id_created_by_id_membership"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id", "organisation_id"],
            ["organisation.clinic_id", "organisation.id"],
            name=op.f("fk_invoice_clinic_id_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id", "payer_client_id"],
            ["client.clinic_id", "client.id"],
            name=op.f("fk_invoice_clinic_id_payer_client_id_client"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_invoice_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("clinic_id", "id", name=op.f("pk_invoice")),
        sa.UniqueConstraint("clinic_id", "number", name=op.f("uq_invoice_clinic_id_number")),
    )
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.create_index("ix_invoice_client", ["clinic_id", "client_id"], unique=False)
        batch_op.create_index("ix_invoice_listing", ["clinic_id", "created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_invoice_organisation", ["clinic_id", "organisation_id"], unique=False
        )
        batch_op.create_index(
            "ix_invoice_payer_client", ["clinic_id", "payer_client_id"], unique=False
        )
        batch_op.create_index("ix_invoice_status", ["clinic_id", "status", "due_on"], unique=False)

    op.create_table(
        "saved_card",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("payment_method_id", sa.String(length=255), nullable=False),
        sa.Column("brand", sa.String(length=20), nullable=False),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("exp_month", sa.Integer(), nullable=False),
        sa.Column("exp_year", sa.Integer(), nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consent_by", sa.String(length=160), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id", "client_id"],
            ["client.clinic_id", "client.id"],
            name=op.f("fk_saved_card_clinic_id_client_id_client"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_saved_card_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("clinic_id", "id", name=op.f("pk_saved_card")),
        sa.UniqueConstraint(
            "clinic_id", "payment_method_id", name=op.f("uq_saved_card_clinic_id_payment_method_id")
        ),
    )
    with op.batch_alter_table("saved_card", schema=None) as batch_op:
        batch_op.create_index("ix_saved_card_client", ["clinic_id", "client_id"], unique=False)

    op.create_table(
        "stripe_customer",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id", "client_id"],
            ["client.clinic_id", "client.id"],
            name=op.f("fk_stripe_customer_clinic_id_client_id_client"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_stripe_customer_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("clinic_id", "id", name=op.f("pk_stripe_customer")),
        sa.UniqueConstraint(
            "clinic_id", "client_id", name=op.f("uq_stripe_customer_clinic_id_client_id")
        ),
        sa.UniqueConstraint(
            "clinic_id", "customer_id", name=op.f("uq_stripe_customer_clinic_id_customer_id")
        ),
    )
    op.create_table(
        "card_attempt",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "desk", "online", "automatic", name="paymentchannel", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "started",
                "requires_action",
                "succeeded",
                "failed",
                name="attemptstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("stripe_payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_payment_method_id", sa.String(length=255), nullable=True),
        sa.Column("failure", sa.String(length=300), nullable=True),
        sa.Column("started_by_id", sa.Uuid(), nullable=True),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "amount_minor BETWEEN 1 AND 100000000", name=op.f("ck_card_attempt_amount_range")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id", "invoice_id"],
            ["invoice.clinic_id", "invoice.id"],
            name=op.f("fk_card_attempt_clinic_id_invoice_id_invoice"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id", "started_by_id"],
            ["membership.clinic_id", "membership.id"],
            name=op.f("fk_card_attempt_clinic_id_started_by_id_membership"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_card_attempt_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("clinic_id", "id", name=op.f("pk_card_attempt")),
        sa.UniqueConstraint(
            "clinic_id",
            "stripe_payment_intent_id",
            name=op.f("uq_card_attempt_clinic_id_stripe_payment_intent_id"),
        ),
    )
    with op.batch_alter_table("card_attempt", schema=None) as batch_op:
        batch_op.create_index("ix_card_attempt_created", ["clinic_id", "created_at"], unique=False)
        batch_op.create_index("ix_card_attempt_invoice", ["clinic_id", "invoice_id"], unique=False)

    op.create_table(
        "credit_note",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("tax_minor", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "amount_minor BETWEEN 1 AND 100000000", name=op.f("ck_credit_note_amount_range")
        ),
        sa.CheckConstraint(
            "tax_minor >= 0 AND tax_minor <= amount_minor", name=op.f("ck_credit_note_tax_range")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id", "created_by_id"],
            ["membership.clinic_id", "membership.id"],
            name=op.f("fk_credit_note_clinic_id_created_by_id_membership"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id", "invoice_id"],
            ["invoice.clinic_id", "invoice.id"],
            name=op.f("fk_credit_note_clinic_id_invoice_id_invoice"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_credit_note_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("clinic_id", "id", name=op.f("pk_credit_note")),
        sa.UniqueConstraint("clinic_id", "number", name=op.f("uq_credit_note_clinic_id_number")),
    )
    with op.batch_alter_table("credit_note", schema=None) as batch_op:
        batch_op.create_index("ix_credit_note_invoice", ["clinic_id", "invoice_id"], unique=False)

    op.create_table(
        "invoice_line",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("service_date", sa.Date(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.Integer(), nullable=False),
        sa.Column("tax_rate_bp", sa.Integer(), nullable=False),
        sa.Column("tax_name", sa.String(length=60), nullable=True),
        sa.Column("net_minor", sa.Integer(), nullable=False),
        sa.Column("tax_minor", sa.Integer(), nullable=False),
        sa.Column("gross_minor", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=80), nullable=True),
        sa.Column("live", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.CheckConstraint(
            "net_minor + tax_minor = gross_minor", name=op.f("ck_invoice_line_amounts_add_up")
        ),
        sa.CheckConstraint(
            "quantity BETWEEN 1 AND 1000", name=op.f("ck_invoice_line_quantity_range")
        ),
        sa.CheckConstraint(
            "tax_rate_bp BETWEEN 0 AND 10000", name=op.f("ck_invoice_line_tax_rate_range")
        ),
        sa.CheckConstraint(
            "unit_price_minor BETWEEN 0 AND 100000000",
            name=op.f("ck_invoice_line_unit_price_range"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id", "client_id"],
            ["client.clinic_id", "client.id"],
            name=op.f("fk_invoice_line_clinic_id_client_id_client"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id", "invoice_id"],
            ["invoice.clinic_id", "invoice.id"],
            name=op.f("fk_invoice_line_clinic_id_invoice_id_invoice"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_invoice_line_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("clinic_id", "id", name=op.f("pk_invoice_line")),
    )
    with op.batch_alter_table("invoice_line", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invoice_line_invoice", ["clinic_id", "invoice_id", "position"], unique=False
        )
        batch_op.create_index(
            "ux_invoice_line_live_source",
            ["clinic_id", "source"],
            unique=True,
            postgresql_where=sa.text("live AND source IS NOT NULL"),
            sqlite_where=sa.text("live AND source IS NOT NULL"),
        )

    op.create_table(
        "payment",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "method",
            sa.Enum(
                "card",
                "cash",
                "bank_transfer",
                "terminal",
                "other",
                name="paymentmethod",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "channel",
            sa.Enum(
                "desk", "online", "automatic", name="paymentchannel", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("reference", sa.String(length=120), nullable=True),
        sa.Column("stripe_payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_charge_id", sa.String(length=255), nullable=True),
        sa.Column("card_brand", sa.String(length=20), nullable=True),
        sa.Column("card_last4", sa.String(length=4), nullable=True),
        sa.Column("taken_by_id", sa.Uuid(), nullable=True),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "amount_minor BETWEEN 1 AND 100000000", name=op.f("ck_payment_amount_range")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id", "invoice_id"],
            ["invoice.clinic_id", "invoice.id"],
            name=op.f("fk_payment_clinic_id_invoice_id_invoice"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id", "location_id"],
            ["location.clinic_id", "location.id"],
            name=op.f("fk_payment_clinic_id_location_id_location"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id", "taken_by_id"],
            ["membership.clinic_id", "membership.id"],
            name=op.f("fk_payment_clinic_id_taken_by_id_membership"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_payment_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("clinic_id", "id", name=op.f("pk_payment")),
        sa.UniqueConstraint(
            "clinic_id",
            "stripe_payment_intent_id",
            name=op.f("uq_payment_clinic_id_stripe_payment_intent_id"),
        ),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index("ix_payment_invoice", ["clinic_id", "invoice_id"], unique=False)
        batch_op.create_index("ix_payment_taken", ["clinic_id", "taken_at"], unique=False)

    op.create_table(
        "refund",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending", "succeeded", "failed", name="refundstatus", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("stripe_refund_id", sa.String(length=255), nullable=True),
        sa.Column("failure", sa.String(length=300), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "amount_minor BETWEEN 1 AND 100000000", name=op.f("ck_refund_amount_range")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id", "created_by_id"],
            ["membership.clinic_id", "membership.id"],
            name=op.f("fk_refund_clinic_id_created_by_id_membership"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id", "payment_id"],
            ["payment.clinic_id", "payment.id"],
            name=op.f("fk_refund_clinic_id_payment_id_payment"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic.id"],
            name=op.f("fk_refund_clinic_id_clinic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("clinic_id", "id", name=op.f("pk_refund")),
        sa.UniqueConstraint(
            "clinic_id", "stripe_refund_id", name=op.f("uq_refund_clinic_id_stripe_refund_id")
        ),
    )
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.create_index("ix_refund_created", ["clinic_id", "created_at"], unique=False)
        batch_op.create_index("ix_refund_payment", ["clinic_id", "payment_id"], unique=False)

    with op.batch_alter_table("client_membership", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("renewal_failures", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("renewal_retry_on", sa.Date(), nullable=True))

    with op.batch_alter_table("clinic", schema=None) as batch_op:
        batch_op.add_column(sa.Column("legal_name", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("invoice_prefix", sa.String(length=12), server_default="INV", nullable=False)
        )
        batch_op.add_column(
            sa.Column("payment_terms_days", sa.Integer(), server_default="14", nullable=False)
        )
        batch_op.add_column(sa.Column("stripe_account_id", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column(
                "stripe_charges_enabled",
                sa.Boolean(),
                server_default=sa.text("false"),
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column(
                "stripe_details_submitted",
                sa.Boolean(),
                server_default=sa.text("false"),
                nullable=False,
            )
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_clinic_stripe_account_id"), ["stripe_account_id"]
        )
    with op.batch_alter_table("clinic", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_clinic_payment_terms_range"), "payment_terms_days BETWEEN 0 AND 365"
        )


def downgrade():
    with op.batch_alter_table("clinic", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_clinic_payment_terms_range"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_clinic_stripe_account_id"), type_="unique")
        batch_op.drop_column("stripe_details_submitted")
        batch_op.drop_column("stripe_charges_enabled")
        batch_op.drop_column("stripe_account_id")
        batch_op.drop_column("payment_terms_days")
        batch_op.drop_column("invoice_prefix")
        batch_op.drop_column("legal_name")

    with op.batch_alter_table("client_membership", schema=None) as batch_op:
        batch_op.drop_column("renewal_retry_on")
        batch_op.drop_column("renewal_failures")

    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.drop_index("ix_refund_payment")
        batch_op.drop_index("ix_refund_created")

    op.drop_table("refund")
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_taken")
        batch_op.drop_index("ix_payment_invoice")

    op.drop_table("payment")
    with op.batch_alter_table("invoice_line", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_invoice_line_live_source",
            postgresql_where=sa.text("live AND source IS NOT NULL"),
            sqlite_where=sa.text("live AND source IS NOT NULL"),
        )
        batch_op.drop_index("ix_invoice_line_invoice")

    op.drop_table("invoice_line")
    with op.batch_alter_table("credit_note", schema=None) as batch_op:
        batch_op.drop_index("ix_credit_note_invoice")

    op.drop_table("credit_note")
    with op.batch_alter_table("card_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_card_attempt_invoice")
        batch_op.drop_index("ix_card_attempt_created")

    op.drop_table("card_attempt")
    op.drop_table("stripe_customer")
    with op.batch_alter_table("saved_card", schema=None) as batch_op:
        batch_op.drop_index("ix_saved_card_client")

    op.drop_table("saved_card")
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_index("ix_invoice_status")
        batch_op.drop_index("ix_invoice_payer_client")
        batch_op.drop_index("ix_invoice_organisation")
        batch_op.drop_index("ix_invoice_listing")
        batch_op.drop_index("ix_invoice_client")

    op.drop_table("invoice")
    op.drop_table("organisation")
    op.drop_table("document_counter")
    op.drop_table("stripe_event")
