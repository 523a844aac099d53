"""Filling in the intake: reading the posted answers, the one-time links, and the signed response.

A client answers the clinic's current intake version through a link that needs no account: an
emailed link (valid for days) or a desk link opened on a clinic device (valid for minutes). The
token in the URL is signed and names the clinic, the link row and a random secret of which only
a hash is stored; a link works once. Answers are stored as typed (encrypted at rest), with the
version they answered, a typed signature and a timestamp set here, never taken from the form.
"""

from __future__ import annotations

import hmac
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from itsdangerous import BadData, BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import update

from .. import tenancy
from ..accounts.tokens import hash_secret, new_secret
from ..clinic_time import today_in
from ..extensions import db
from ..models import Client, Clinic, IntakeLink, IntakeResponse, IntakeTemplate, Membership
from ..models.base import utcnow
from ..refusals import Gone, Refusal
from . import audit
from .contraindications import (
    CONDITIONS,
    DETAIL_MAX,
    MEDICATIONS,
    SITE_MAX,
    FlagLevel,
    flags_from_answers,
    highest_level,
)

TEXT_MAX = 200
TEXTAREA_MAX = 2000
SINCE_MAX = 60
ANSWERS_MAX = 20_000  # characters of the whole answers document, as JSON
INJURY_ROWS = 3
SIGNATURE_MIN, SIGNATURE_MAX = 2, 120
EARLIEST_DATE = date(1900, 1, 1)
LATEST_YEARS_AHEAD = 10

FORM_ERROR = "_form"  # errors key for what concerns the whole form rather than one question
CHECKLISTS = {"contraindications": CONDITIONS, "medications": MEDICATIONS}
CHANNELS = ("email", "desk")
LINK_SALT = "intake-link"
TOKEN_MAX = 500  # a real token is about 200 characters
# A link's secret as new_secret() makes it (URL-safe base64, 43 characters); anything else in a
# signed token is forged or garbled, and is refused before it is hashed.
_SECRET = re.compile(r"[A-Za-z0-9_-]{16,128}")

# Typographic apostrophes and dashes, as phones type them, compare as the plain ones.
_PUNCTUATION_STYLES = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "\u2010": "-",
        "\u2011": "-",
        "\u2013": "-",
        "\u2014": "-",
    }
)

# Line breaks and tabs are kept in long answers; other control characters never are.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# Answers ------------------------------------------------------------------------------------------


def field_name(key: str, *parts: object) -> str:
    """The posted field of a question: q-<key>, q-<key>-detail, q-<key>-2-site ..."""
    return "-".join(["q", key, *map(str, parts)])


def _clean(value: object, multiline: bool = False) -> str:
    text = value if isinstance(value, str) else ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    if not multiline:
        text = " ".join(text.split())
    return text.strip()


def _too_long(value: str, limit: int) -> str | None:
    if len(value) > limit:
        return f"Use at most {limit} characters (this has {len(value)})."
    return None


def _int_0_10(raw: str) -> tuple[int | None, bool]:
    """(value, ok): "" is (None, True); anything but a whole number from 0 to 10 is not ok."""
    if raw == "":
        return None, True
    if not re.fullmatch(r"\d{1,2}", raw):
        return None, False
    value = int(raw)
    return (value, True) if value <= 10 else (None, False)


def empty_answer(question: dict):
    """The stored value of an unanswered question of this kind."""
    kind = question["kind"]
    if kind == "yesno":
        return {"answer": "", "detail": ""}
    if kind == "scale":
        return None
    if kind == "injuries":
        return []
    if kind in CHECKLISTS:
        return {"none": False, "codes": [], "sites": {}, "details": {}}
    return ""


def _parse_text(question, form, limit, multiline):
    value = _clean(form.get(field_name(question["key"])), multiline)
    problem = _too_long(value, limit)
    if problem is None and question.get("required") and not value:
        problem = "Please answer this question."
    return value, problem


def _parse_yesno(question, form):
    key = question["key"]
    answer = _clean(form.get(field_name(key)))
    detail = _clean(form.get(field_name(key, "detail")), multiline=True)
    problem = None
    if answer not in ("", "yes", "no"):
        answer, problem = "", "Answer yes or no."
    elif question.get("required") and not answer:
        problem = "Answer yes or no."
    problem = problem or _too_long(detail, DETAIL_MAX)
    return {"answer": answer, "detail": detail}, problem


def _parse_scale(question, form):
    value, ok = _int_0_10(_clean(form.get(field_name(question["key"]))))
    if not ok:
        return None, "Choose a number from 0 to 10."
    if value is None and question.get("required"):
        return None, "Choose a number from 0 to 10."
    return value, None


def _parse_choice(question, form):
    value = _clean(form.get(field_name(question["key"])))
    if value and value not in question.get("options", []):
        return "", "Choose one of the options given."
    if not value and question.get("required"):
        return "", "Choose one of the options."
    return value, None


def _parse_date(question, form):
    value = _clean(form.get(field_name(question["key"])))
    if not value:
        return "", ("Enter a date." if question.get("required") else None)
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        return value[:10], "Enter a date as year-month-day, e.g. 2024-03-17."
    latest = date(utcnow().year + LATEST_YEARS_AHEAD, 12, 31)
    if not EARLIEST_DATE <= day <= latest:
        return value, f"Enter a date between {EARLIEST_DATE.year} and {latest.year}."
    return day.isoformat(), None


def _parse_injuries(question, form):
    key = question["key"]
    rows, problems = [], []
    for n in range(1, INJURY_ROWS + 1):
        site = _clean(form.get(field_name(key, n, "site")))
        since = _clean(form.get(field_name(key, n, "since")))
        raw_pain = _clean(form.get(field_name(key, n, "pain")))
        if not (site or since or raw_pain):
            continue
        pain, ok = _int_0_10(raw_pain)
        rows.append({"site": site, "since": since, "pain": pain if ok else None})
        if not site:
            problems.append(f"Line {n}: say where it hurts.")
        elif _too_long(site, SITE_MAX):
            problems.append(f"Line {n}: describe the area in at most {SITE_MAX} characters.")
        if _too_long(since, SINCE_MAX):
            problems.append(f"Line {n}: say since when in at most {SINCE_MAX} characters.")
        if not ok or pain is None:
            problems.append(f"Line {n}: rate the pain from 0 (none) to 10 (worst).")
    if not rows and question.get("required"):
        problems.append("Describe at least one injury or area of pain.")
    return rows, " ".join(problems) or None


def _getlist(form: Mapping, name: str) -> list:
    if hasattr(form, "getlist"):
        return form.getlist(name)
    value = form.get(name)
    return list(value) if isinstance(value, list | tuple) else [value]


def _parse_checklist(question, form):
    key = question["key"]
    catalogue = {c.code: c for c in CHECKLISTS[question["kind"]]}
    posted = (_clean(c) for c in _getlist(form, field_name(key, "codes")))
    codes = list(dict.fromkeys(c for c in posted if c))
    none = _clean(form.get(field_name(key, "none"))) in {"1", "on", "yes", "true"}
    unknown = [c for c in codes if c not in catalogue]
    codes = [c for c in codes if c in catalogue]
    sites, details, problems = {}, {}, []
    for code in codes:
        condition = catalogue[code]
        site = _clean(form.get(field_name(key, "site", code)))
        detail = _clean(form.get(field_name(key, "detail", code)), multiline=True)
        if site:
            sites[code] = site
        if detail:
            details[code] = detail
        if condition.asks_site and not site:
            problems.append(f"{condition.label}: where? Say which area, e.g. left calf.")
        elif len(site) > SITE_MAX:
            problems.append(f"{condition.label}: say where in at most {SITE_MAX} characters.")
        if len(detail) > DETAIL_MAX:
            problems.append(f"{condition.label}: use at most {DETAIL_MAX} characters.")
    answer = {"none": none, "codes": codes, "sites": sites, "details": details}
    if unknown:
        problems.insert(0, "Some of the ticked options are not on this form: tick them again.")
    if none and codes:
        problems.insert(0, "Tick 'None of these' or the ones that apply, not both.")
    elif not none and not codes and not unknown:
        problems.insert(0, "Tick the ones that apply, or 'None of these'.")
    return answer, " ".join(problems) or None


def parse_answers(template: IntakeTemplate, form: Mapping) -> tuple[dict, dict[str, str]]:
    """Read the posted form into the answers document of `template` (shapes: templates.py).

    Returns (answers, errors). The answers keep what was typed even when errors are found, so the
    form can be shown again without losing anything; errors map question keys (or FORM_ERROR)
    to one message each.
    """
    answers: dict = {}
    errors: dict[str, str] = {}
    for question in template.questions:
        kind = question["kind"]
        if kind == "text":
            value, problem = _parse_text(question, form, TEXT_MAX, multiline=False)
        elif kind == "textarea":
            value, problem = _parse_text(question, form, TEXTAREA_MAX, multiline=True)
        elif kind == "yesno":
            value, problem = _parse_yesno(question, form)
        elif kind == "scale":
            value, problem = _parse_scale(question, form)
        elif kind == "choice":
            value, problem = _parse_choice(question, form)
        elif kind == "date":
            value, problem = _parse_date(question, form)
        elif kind == "injuries":
            value, problem = _parse_injuries(question, form)
        elif kind in CHECKLISTS:
            value, problem = _parse_checklist(question, form)
        else:  # a kind this code does not know: never trust it with an answer
            value, problem = empty_answer(question), None
        answers[question["key"]] = value
        if problem:
            errors[question["key"]] = problem
    size = len(json.dumps(answers, ensure_ascii=False, separators=(",", ":")))
    if size > ANSWERS_MAX:
        errors[FORM_ERROR] = (
            f"Your answers are too long to store ({size:,} characters; the limit is "
            f"{ANSWERS_MAX:,}). Please shorten the longest ones."
        )
    return answers, errors


def _fits(question: dict, value) -> bool:
    """Whether a value has the shape the question's kind stores (and a choice is still offered)."""
    empty = empty_answer(question)
    kind = question["kind"]
    if kind == "choice":
        return value in question.get("options", [])
    if kind == "scale":
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10
    if kind == "injuries":
        return isinstance(value, list) and all(isinstance(row, dict) for row in value)
    if isinstance(empty, dict):
        return isinstance(value, dict) and set(empty) <= set(value)
    return isinstance(value, str)


def prefill(questions: list[dict], answers: Mapping | None) -> dict:
    """Answers to show in the form: every question's value in its kind's shape, or empty.

    Used to show again what was typed, including after the clinic published a new version:
    an answer that no longer fits its question (another kind, a removed option) is dropped.
    """
    answers = answers or {}
    result = {}
    for question in questions:
        value = answers.get(question["key"])
        result[question["key"]] = value if _fits(question, value) else empty_answer(question)
    return result


@dataclass(frozen=True)
class Signature:
    """What the signer typed and ticked under the consent text."""

    name: str
    guardian: bool
    consent: bool


def read_signature(form: Mapping) -> Signature:
    ticked = {"1", "on", "yes", "true"}
    return Signature(
        name=_clean(form.get("signed_name")),
        guardian=_clean(form.get("guardian")) in ticked,
        consent=_clean(form.get("consent")) in ticked,
    )


def _comparable(name: str) -> str:
    """A name as signatures are compared: case, accents, apostrophe and dash styles and extra
    spaces ignored ("  JAMIE  o-curly-apostrophe-brien" reads as "jamie o'brien")."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.translate(_PUNCTUATION_STYLES)
    return " ".join(text.casefold().split())


def guardian_option(client: Client, guardian: Client | None, today: date) -> bool:
    """Whether a parent or guardian may sign: the client is a minor by date of birth, or has no
    date of birth and a parent or guardian on record."""
    if client.date_of_birth is not None:
        return client.is_minor_on(today)
    return guardian is not None


def signature_errors(
    client: Client, signature: Signature, today: date, guardian: Client | None = None
) -> dict[str, str]:
    """Consent ticked, and a typed name of 2-120 characters that is the client's own name, or
    for a minor the name of the parent or guardian on record (`guardian`), with the box ticked.

    The messages never say what name is on record: whoever holds the link learns nothing.
    """
    errors = {}
    if not signature.consent:
        errors["consent"] = "Tick the box to confirm that you agree."
    length = len(signature.name)
    if length < SIGNATURE_MIN or length > SIGNATURE_MAX:
        errors["signed_name"] = (
            f"Type your full name to sign ({SIGNATURE_MIN} to {SIGNATURE_MAX} characters)."
        )
    guardian = guardian if guardian is not None and guardian.erased_at is None else None
    minor = client.is_minor_on(today)
    by_guardian = signature.guardian and guardian_option(client, guardian, today)
    if minor and not signature.guardian:
        errors["guardian"] = (
            f"{client.first_name} is under 18: a parent or guardian must sign. Tick the box "
            "and type the parent's or guardian's name."
        )
    elif by_guardian and guardian is None:
        errors["guardian"] = (
            f"{client.first_name} has no parent or guardian on record yet: ask the clinic to add "
            "them, then sign with their name."
        )
    elif "signed_name" not in errors:
        typed = _comparable(signature.name)
        if by_guardian and typed != _comparable(guardian.full_name):
            errors["signed_name"] = (
                f"Type the full name of the parent or guardian the clinic has on record for "
                f"{client.first_name}, as the clinic has it."
            )
        elif not by_guardian and typed != _comparable(client.full_name):
            errors["signed_name"] = (
                "Type your full name (first and last name) as the clinic has it: only "
                f"{client.first_name} can sign this form."
            )
    return errors


# Links --------------------------------------------------------------------------------------------


class IntakeLinkError(Refusal):
    """A link that cannot be used; `message` is safe to show anyone."""


class IntakeLinkGone(IntakeLinkError, Gone):
    """A link that worked once: expired, or its form already submitted (HTTP 410)."""


class IntakeError(Refusal):
    """A submission refused (the view validates first; this guards the domain function)."""


INVALID_LINK = (
    "This link is not valid. Check that you opened the whole link from the email, or ask the "
    "clinic for a new one."
)

ALREADY_SUBMITTED = (
    "This form has already been submitted. Thank you! If something has changed since, tell "
    "{clinic} before your treatment."
)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=LINK_SALT)


def link_max_age(channel: str) -> timedelta:
    config = current_app.config
    if channel == "desk":
        return timedelta(minutes=int(config["INTAKE_DESK_LINK_MAX_AGE_MINUTES"]))
    return timedelta(days=int(config["INTAKE_LINK_MAX_AGE_DAYS"]))


def create_link(
    client: Client,
    channel: str,
    created_by: Membership | None,
    sent_to: str | None = None,
) -> tuple[IntakeLink, str]:
    """A new one-time link for `client` and the token of its URL (shown once, never stored)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown intake channel {channel!r}")
    secret, secret_hash = new_secret()
    now = utcnow()
    link = IntakeLink(
        client_id=client.id,
        created_by_id=created_by.id if created_by is not None else None,
        channel=channel,
        sent_to=sent_to,
        secret_hash=secret_hash,
        created_at=now,
        expires_at=now + link_max_age(channel),
    )
    db.session.add(link)
    db.session.flush()
    token = _serializer().dumps({"c": link.clinic_id.hex, "l": link.id.hex, "s": secret})
    return link, token


def _payload(token: str) -> tuple[dict, bool]:
    """(payload, expired) of a token whose signature is ours; IntakeLinkError otherwise."""
    if not isinstance(token, str) or len(token) > TOKEN_MAX:
        raise IntakeLinkError(INVALID_LINK)
    longest = max(link_max_age("email"), link_max_age("desk"))
    serializer = _serializer()
    try:
        return serializer.loads(token, max_age=int(longest.total_seconds())), False
    except SignatureExpired as expired:
        try:
            return serializer.load_payload(expired.payload), True
        except BadData as exc:
            raise IntakeLinkError(INVALID_LINK) from exc
    except BadSignature as exc:
        raise IntakeLinkError(INVALID_LINK) from exc
    except (BadData, ValueError, UnicodeError) as exc:
        raise IntakeLinkError(INVALID_LINK) from exc


def _expired(clinic: Clinic) -> IntakeLinkGone:
    return IntakeLinkGone(f"This link has expired. Ask {clinic.name} for a new one.")


def open_link(token: str) -> IntakeLink:
    """The open link a token names, with its clinic bound; IntakeLinkError when unusable."""
    data, signature_expired = _payload(token)
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in "cls"):
        raise IntakeLinkError(INVALID_LINK)
    if not _SECRET.fullmatch(data["s"]):
        raise IntakeLinkError(INVALID_LINK)
    clinic_id, link_id = tenancy.parse_id(data["c"]), tenancy.parse_id(data["l"])
    if clinic_id is None or link_id is None:
        raise IntakeLinkError(INVALID_LINK)
    clinic = db.session.get(Clinic, clinic_id)  # Clinic is not clinic-owned: no scope needed
    if clinic is None or not clinic.active:
        raise IntakeLinkError(INVALID_LINK)
    tenancy.bind(clinic)
    link = tenancy.find(IntakeLink, link_id)
    if link is None or not hmac.compare_digest(link.secret_hash, hash_secret(data["s"])):
        raise IntakeLinkError(INVALID_LINK)
    if link.used_at is not None:
        raise IntakeLinkGone(ALREADY_SUBMITTED.format(clinic=clinic.name))
    if signature_expired or link.expires_at <= utcnow():
        raise _expired(clinic)
    client = tenancy.find(Client, link.client_id)
    if client is None or client.erased_at is not None:
        raise IntakeLinkError(INVALID_LINK)
    return link


# Submission ---------------------------------------------------------------------------------------

ACTORS = {"email": "Client (intake link)", "desk": "Client (at the desk)"}


def submit(
    link: IntakeLink,
    template: IntakeTemplate,
    answers: dict,
    signed_name: str,
    guardian: bool,
    ip: str | None,
    *,
    clinic: Clinic,
) -> IntakeResponse:
    """Store the signed intake, raise its red flags, and close the link (and the client's other
    open links: a client answers once, whichever link they used).

    The link is claimed with one conditional UPDATE, so two submissions racing on the same link
    store one response: the second gets IntakeLinkGone (410).
    """
    client = tenancy.find(Client, link.client_id)
    if client is None:
        raise IntakeError("This link no longer names a client.")
    signed_name = _clean(signed_name)
    parent = tenancy.find(Client, client.guardian_id) if client.guardian_id else None
    today = today_in(clinic)
    guardian = bool(guardian) and guardian_option(client, parent, today)
    problems = signature_errors(client, Signature(signed_name, guardian, True), today, parent)
    if problems:
        raise IntakeError(" ".join(problems.values()))
    now = utcnow()
    claimed = db.session.execute(
        update(IntakeLink)
        .where(IntakeLink.id == link.id, IntakeLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise IntakeLinkGone(ALREADY_SUBMITTED.format(clinic=clinic.name))
    db.session.execute(
        update(IntakeLink)
        .where(IntakeLink.client_id == client.id, IntakeLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(link, ["used_at"])
    flags = flags_from_answers(template.questions, answers)
    response = IntakeResponse(
        client_id=client.id,
        template_id=template.id,
        link_id=link.id,
        answers=answers,
        flags=flags,
        has_flags=bool(flags),
        flag_level=level.value if (level := highest_level(flags)) else None,
        signed_name=signed_name,
        signed_by_guardian=bool(guardian),
        signed_at=now,
        submitted_via=link.channel,
        ip_address=ip[:45] if ip else None,
    )
    db.session.add(response)
    db.session.flush()
    audit.record(
        "intake.submit",
        client_id=client.id,
        subject_type="intake_response",
        subject_id=response.id,
        actor=ACTORS.get(link.channel, ACTORS["email"]),
    )
    return response


# Display ------------------------------------------------------------------------------------------


# How the contraindication checklist's groups read to a client (the levels are for the therapist).
LEVEL_HEADINGS = {
    FlagLevel.ABSOLUTE: "Today, or in the last few days",
    FlagLevel.LOCAL: "Affecting one area of your body: tell us where",
    FlagLevel.DOCTOR: "Conditions your therapist needs to know about",
    FlagLevel.CAUTION: "Medications and devices",
}


@dataclass(frozen=True)
class FormLimits:
    """The length limits, for the form's maxlength attributes."""

    TEXT_MAX: int = TEXT_MAX
    TEXTAREA_MAX: int = TEXTAREA_MAX
    SITE_MAX: int = SITE_MAX
    DETAIL_MAX: int = DETAIL_MAX
    SINCE_MAX: int = SINCE_MAX
    INJURY_ROWS: int = INJURY_ROWS
    SIGNATURE_MAX: int = SIGNATURE_MAX


def checklist_groups(kind: str) -> list[tuple[FlagLevel, list]]:
    """The conditions of a checklist question, grouped by level, most serious first."""
    groups: dict[FlagLevel, list] = {}
    for condition in CHECKLISTS[kind]:
        groups.setdefault(condition.level, []).append(condition)
    return sorted(groups.items(), key=lambda item: item[0].rank)


def sections(questions: list[dict]) -> list[tuple[str, list[dict]]]:
    """Questions grouped under their section headings, in the order the sections first appear."""
    grouped: dict[str, list[dict]] = {}
    for question in questions:
        grouped.setdefault(question.get("section") or "Questions", []).append(question)
    return list(grouped.items())
