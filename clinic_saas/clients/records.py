"""Client records at the desk: creating, editing, listing and finding them.

Plain functions that flush, never commit. Bad input raises ClientError before anything is
changed, so a refused edit leaves the record exactly as it was.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask import g, has_app_context
from sqlalchemy import and_, func, or_, select, tuple_

from ..clinic_time import today_in
from ..extensions import db
from ..models import ActivityLevel, Client, Clinic
from ..models.base import utcnow
from ..refusals import Refusal


def _column_length(name: str) -> int:
    return Client.__table__.c[name].type.length


NAME_MAX = _column_length("first_name")
EMAIL_MAX = _column_length("email")
PHONE_MAX = _column_length("phone")
CONTACT_NAME_MAX = _column_length("emergency_contact_name")
GP_NAME_MAX = _column_length("gp_name")
GP_PRACTICE_MAX = _column_length("gp_practice")
SPORT_MAX = _column_length("sport")
ADDRESS_MAX = 500  # a Text column: bounded here so a record stays a record
OLDEST_AGE = 120
SEARCH_WORDS = 5
# Digits with the punctuation people type in phone numbers: +44 (0)161 496-0000.
_PHONE = re.compile(r"^\+?[0-9 ()./-]+$")
_MIN_PHONE_DIGITS = 6
# A search word made of phone characters with at least this many digits is matched on its digits.
_MIN_SEARCH_DIGITS = 3

# A person's emergency contact is a pair: a name and the phone number that reaches that person.
EMERGENCY_CONTACT = ("emergency_contact_name", "emergency_contact_phone")
# Every field of the record that the desk edits, in the order the form shows them.
EDITABLE = (
    "first_name",
    "last_name",
    "date_of_birth",
    "email",
    "phone",
    "address",
    *EMERGENCY_CONTACT,
    "gp_name",
    "gp_practice",
    "sport",
    "activity_level",
    "marketing_consent",
)


class ClientError(Refusal):
    """A client record that cannot be saved as entered; str() is for people, field says where."""


def _has_control_characters(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in value)


def _clean(value: str | None) -> str:
    """One line of text, with runs of spaces (and stray control characters) made one space."""
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in (value or ""))
    return " ".join(text.split())


def _text(value: str | None, field: str, limit: int, what: str) -> str | None:
    text = _clean(value)
    if len(text) > limit:
        raise ClientError(f"Use at most {limit} characters for {what}.", field)
    return text or None


def _address(value: str | None) -> str | None:
    """Several lines are kept as lines; spaces within each line are tidied."""
    lines = [_clean(line) for line in (value or "").replace("\r\n", "\n").split("\n")]
    text = "\n".join(line for line in lines if line)
    if len(text) > ADDRESS_MAX:
        raise ClientError(f"Use at most {ADDRESS_MAX} characters for the address.", "address")
    return text or None


def normalise_email(email: str | None) -> str | None:
    """Lowercase, trimmed, and checked for shape (no DNS lookups at the desk)."""
    email = (email or "").strip().lower()
    if not email:
        return None
    if len(email) > EMAIL_MAX:
        raise ClientError(f"Use at most {EMAIL_MAX} characters for the email.", "email")
    if _has_control_characters(email):
        raise ClientError("Enter a valid email address, e.g. name@example.com.", "email")
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise ClientError("Enter a valid email address, e.g. name@example.com.", "email") from error
    return email


def _region() -> str | None:
    """The bound clinic's country: a number typed without +44 is read as that country's."""
    clinic = g.get("clinic") if has_app_context() else None
    return clinic.country if clinic is not None else None


def normalise_phone(
    phone: str | None, field: str = "phone", *, region: str | None = None
) -> str | None:
    """The number in E.164 (+447700900123), read in the clinic's country unless it starts +.

    "07700 900123" and "+44 7700 900123" are one number and are stored the same. The check is
    "possible" (a plausible length for its country), not "valid": the numbers reserved for
    fiction and demos, such as 07700 900xxx, are possible but not allocated.
    """
    phone = _clean(phone)
    if not phone:
        return None
    digits = sum(ch.isdigit() for ch in phone)
    problem = ClientError("Enter a phone number of digits, e.g. +44 7700 900123.", field)
    if len(phone) > PHONE_MAX or not _PHONE.match(phone) or digits < _MIN_PHONE_DIGITS:
        raise problem
    try:
        number = phonenumbers.parse(phone, region or _region() or "GB")
    except phonenumbers.NumberParseException as error:
        raise problem from error
    if not phonenumbers.is_possible_number(number):
        raise problem
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _today() -> date:
    """The clinic's own today when a clinic is bound (a birthday is a local date)."""
    clinic = g.get("clinic") if has_app_context() else None
    if clinic is not None:
        return today_in(clinic)
    return utcnow().date()


def _date_of_birth(value) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value))
        except ValueError as error:
            raise ClientError(
                "Enter the date of birth as a date, e.g. 1990-04-21.", "date_of_birth"
            ) from error
    today = _today()
    if value > today:
        raise ClientError("The date of birth cannot be in the future.", "date_of_birth")
    if today.year - value.year > OLDEST_AGE:
        raise ClientError(
            f"Check the date of birth: it makes the client older than {OLDEST_AGE}.",
            "date_of_birth",
        )
    return value


def _activity_level(value) -> ActivityLevel | None:
    if value in (None, ""):
        return None
    try:
        return ActivityLevel(value)
    except ValueError as error:
        raise ClientError("Choose an activity level from the list.", "activity_level") from error


def _consent(value) -> bool:
    if not isinstance(value, bool):
        raise ClientError("Marketing consent is given or not: tick the box or leave it.", None)
    return value


_CHECKS: dict[str, Callable] = {
    "first_name": lambda v: _text(v, "first_name", NAME_MAX, "the first name"),
    "last_name": lambda v: _text(v, "last_name", NAME_MAX, "the last name"),
    "date_of_birth": _date_of_birth,
    "email": normalise_email,
    "phone": normalise_phone,
    "address": _address,
    "emergency_contact_name": lambda v: _text(
        v, "emergency_contact_name", CONTACT_NAME_MAX, "the emergency contact's name"
    ),
    "emergency_contact_phone": lambda v: normalise_phone(v, "emergency_contact_phone"),
    "gp_name": lambda v: _text(v, "gp_name", GP_NAME_MAX, "the GP's name"),
    "gp_practice": lambda v: _text(v, "gp_practice", GP_PRACTICE_MAX, "the GP practice"),
    "sport": lambda v: _text(v, "sport", SPORT_MAX, "the sport"),
    "activity_level": _activity_level,
    "marketing_consent": _consent,
}


def check_field(name: str, value):
    """One field cleaned and checked as the edit form checks it; ClientError names the field."""
    return _CHECKS[name](value)


def _checked(fields: dict) -> dict:
    """Every given field cleaned and checked, in the form's order; the first problem raises."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"not a client field: {', '.join(sorted(unknown))}")
    return {name: _CHECKS[name](fields[name]) for name in EDITABLE if name in fields}


def _check_complete(values: dict, *, has_guardian: bool) -> None:
    """What the whole record needs once every field is right on its own."""
    if not values.get("first_name") and not values.get("last_name"):
        raise ClientError("Enter the client's name.", "first_name")
    if not has_guardian and not values.get("email") and not values.get("phone"):
        raise ClientError("Enter an email address or a phone number.", "email")
    contact_name, contact_phone = (
        values.get("emergency_contact_name"),
        values.get("emergency_contact_phone"),
    )
    if contact_name and not contact_phone:
        raise ClientError(
            "Give a phone number for the emergency contact too.", "emergency_contact_phone"
        )
    if contact_phone and not contact_name:
        raise ClientError("Give the emergency contact's name too.", "emergency_contact_name")


def _apply(client: Client, values: dict, now: datetime) -> None:
    for name, value in values.items():
        if name == "marketing_consent":
            if value != bool(client.marketing_consent):
                client.marketing_consent_at = now if value else None
            client.marketing_consent = value
        elif name in ("first_name", "last_name"):
            setattr(client, name, value or "")
        else:
            setattr(client, name, value)


def create_client(
    first_name: str | None,
    last_name: str | None,
    email: str | None,
    phone: str | None,
    *,
    guardian: Client | None = None,
    now: datetime | None = None,
    **details,
) -> Client:
    """A new client: a name, and an email or a phone number so the clinic can reach them (a
    child in a guardian's family is reached through the guardian)."""
    values = _checked(
        {"first_name": first_name, "last_name": last_name, "email": email, "phone": phone} | details
    )
    _check_complete(values, has_guardian=guardian is not None)
    client = Client(first_name="", last_name="", marketing_consent=False)
    _apply(client, values, now or utcnow())
    if guardian is not None:
        client.guardian_id = guardian.id
    db.session.add(client)
    db.session.flush()
    return client


def update_client(client: Client, *, now: datetime | None = None, **fields) -> Client:
    """Change some fields of a record; all are checked before any is changed."""
    if client.erased_at is not None:
        raise ClientError("This client's identity was erased: the record can no longer be edited.")
    values = _checked(fields)
    after = {name: getattr(client, name) for name in EDITABLE} | values
    _check_complete(after, has_guardian=client.guardian_id is not None)
    _apply(client, values, now or utcnow())
    db.session.flush()
    return client


# Finding clients ---------------------------------------------------------------------------------


def _like_pattern(term: str) -> str:
    """'%term%' with LIKE's own wildcards in term taken literally (escape character '/')."""
    escaped = term.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def _digits_if_phone(text: str) -> str | None:
    """The bare digits of something typed as a phone number ("0161 496-0000"), else None."""
    digits = re.sub(r"\D", "", text)
    if len(digits) >= _MIN_SEARCH_DIGITS and _PHONE.match(text):
        return digits
    return None


def search_terms(q: str | None) -> list[str]:
    """What each client's search_text must contain, all of it, for the query q.

    Words are lowercased; a phone number typed with spaces or dashes becomes its digits (the
    whole query when it is one number, else each word), which search_text holds as well.
    """
    text = _clean(q).lower()
    if not text:
        return []
    whole = _digits_if_phone(text)
    if whole is not None and " " in text:
        return [whole]
    return [_digits_if_phone(word) or word for word in text.split()[:SEARCH_WORDS]]


# A search reads at most this many matching rows before sorting them by name: a fragment that
# matches thousands of clients ("smi") costs the same as one that matches a few, and the desk
# narrows it by typing more.
SEARCH_CANDIDATES = 200


def search_clients(q: str | None, limit: int = 20) -> list[Client]:
    """Clients whose name, email or phone contains every word of q, whatever the case, by name.

    Each word is a plain LIKE '%word%' on search_text (no function around the column), which
    the trigram index serves on PostgreSQL. The matching ids are collected first with no order,
    so the database stops after SEARCH_CANDIDATES of them, and only those are sorted; sorting by
    lower(name) also keeps the planner from walking the name index of the whole clinic instead
    of the trigram index. Erased clients are never found.
    """
    terms = search_terms(q)
    if not terms:
        return []
    matching = select(Client.id).where(Client.erased_at.is_(None))
    for term in terms:
        matching = matching.where(Client.search_text.like(_like_pattern(term), escape="/"))
    query = (
        select(Client)
        .where(Client.id.in_(matching.limit(max(SEARCH_CANDIDATES, limit))))
        .order_by(func.lower(Client.last_name), func.lower(Client.first_name), Client.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


# Possible duplicates -----------------------------------------------------------------------------

DUPLICATES_SHOWN = 3


def _or_none(check: Callable, value):
    """A lenient reading for matching: what does not pass its check matches nothing."""
    try:
        return check(value)
    except ClientError:
        return None


def possible_duplicates(
    clinic: Clinic,
    *,
    email: str | None = None,
    phone: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    date_of_birth=None,
) -> list[Client]:
    """Existing clients who may be the person about to be added: the same email, the same phone
    number (in whatever format it was typed), or the same name and date of birth."""
    email = _or_none(normalise_email, email)
    phone = _or_none(lambda v: normalise_phone(v, region=clinic.country), phone)
    first, last = _clean(first_name).lower(), _clean(last_name).lower()
    born = _or_none(_date_of_birth, date_of_birth)
    same = []
    if email:
        same.append(Client.email == email)
    if phone:
        same.append(Client.phone == phone)
    if first and last and born:
        same.append(
            and_(
                func.lower(Client.first_name) == first,
                func.lower(Client.last_name) == last,
                Client.date_of_birth == born,
            )
        )
    if not same:
        return []
    query = (
        select(Client)
        .where(Client.clinic_id == clinic.id, Client.erased_at.is_(None), or_(*same))
        .order_by(Client.created_at, Client.id)
        .limit(DUPLICATES_SHOWN)
    )
    return list(db.session.scalars(query))


def list_clients(after: Client | None = None, limit: int = 50) -> list[Client]:
    """Clients in alphabetical order (last name, first name), the page after `after`."""
    query = select(Client).where(Client.erased_at.is_(None))
    if after is not None:
        query = query.where(
            tuple_(Client.last_name, Client.first_name, Client.id)
            > tuple_(after.last_name, after.first_name, after.id)
        )
    query = query.order_by(Client.last_name, Client.first_name, Client.id).limit(limit)
    return list(db.session.scalars(query))


def clients_by_id(ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, Client]:
    """{id: client} for these ids, in one query (e.g. the guardians of a page of clients)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {c.id: c for c in db.session.scalars(select(Client).where(Client.id.in_(wanted)))}
