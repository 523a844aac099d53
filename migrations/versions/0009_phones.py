"""phones: clients' phone numbers in E.164, read in their clinic's country

Revision ID: 0009_phones
Revises: 0006_sessions
Create Date: 2026-12-06 03:55:00.000000

"07700 900123" and "+44 7700 900123" were stored as typed; from now on a client's phone and
emergency contact's phone are stored as +447700900123, so one number is one value (duplicates
are found by it) and search_text holds both its international and its national digits. A stored
number that is not a possible phone number in its clinic's country is kept as it was. There is
no way back to the spelling that was typed: the downgrade leaves the numbers as they are.
"""

import re

import phonenumbers
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009_phones"
down_revision = "0008_flag_level"
branch_labels = None
depends_on = None

BATCH = 1000


def _e164(phone, country):
    if not phone:
        return phone
    try:
        number = phonenumbers.parse(phone, country)
    except phonenumbers.NumberParseException:
        return phone
    if not phonenumbers.is_possible_number(number):
        return phone
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _national_digits(phone):
    if not phone or not phone.startswith("+"):
        return ""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return ""
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return re.sub(r"\D", "", national)


def _search_text(first, last, email, phone):
    # The rule of models.client.search_text_of as of this revision (migrations do not import
    # application code, which may change later).
    digits = re.sub(r"\D", "", phone or "")
    parts = [first or "", last or "", email or "", phone or "", digits, _national_digits(phone)]
    return " ".join(p.lower() for p in parts if p)


def upgrade():
    clinic = sa.table("clinic", sa.column("id", sa.Uuid()), sa.column("country", sa.String()))
    client = sa.table(
        "client",
        sa.column("clinic_id", sa.Uuid()),
        sa.column("id", sa.Uuid()),
        sa.column("first_name", sa.String()),
        sa.column("last_name", sa.String()),
        sa.column("email", sa.String()),
        sa.column("phone", sa.String()),
        sa.column("emergency_contact_phone", sa.String()),
        sa.column("search_text", sa.Text()),
    )
    bind = op.get_bind()
    countries = dict(bind.execute(sa.select(clinic.c.id, clinic.c.country)).all())
    query = (
        sa.select(
            client.c.clinic_id,
            client.c.id,
            client.c.first_name,
            client.c.last_name,
            client.c.email,
            client.c.phone,
            client.c.emergency_contact_phone,
            client.c.search_text,
        )
        .where(sa.or_(client.c.phone.is_not(None), client.c.emergency_contact_phone.is_not(None)))
        .order_by(client.c.clinic_id, client.c.id)
    )
    rows = bind.execute(query).all()
    for row in rows:
        country = countries.get(row.clinic_id)
        phone = _e164(row.phone, country)
        contact = _e164(row.emergency_contact_phone, country)
        text = _search_text(row.first_name, row.last_name, row.email, phone)
        if (phone, contact, text) == (row.phone, row.emergency_contact_phone, row.search_text):
            continue
        bind.execute(
            client.update()
            .where(client.c.clinic_id == row.clinic_id, client.c.id == row.id)
            .values(phone=phone, emergency_contact_phone=contact, search_text=text)
        )


def downgrade():
    # The typed spelling of each number is gone; E.164 numbers remain valid numbers.
    pass
