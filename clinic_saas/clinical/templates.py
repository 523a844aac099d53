"""The clinic's intake form: its versions, and the default sports-massage intake every clinic
starts from.

A template is a list of questions. Each question is a dict:
    key       stable identifier, [a-z0-9_], unique in the template; answers are stored under it
    label     the question as the client reads it
    kind      text | textarea | yesno | scale | choice | date | injuries | contraindications |
              medications
    section   heading the question appears under
    required  bool
    help      optional hint under the field
    options   for "choice": a list of strings
    locked    bool: part of the clinical core (red flags, injuries, consent depend on it); an
              owner may reword a locked question but not remove it or change its kind

kinds and the answer each stores:
    text, textarea, date (ISO), choice   -> str ("" when left empty)
    yesno                                -> {"answer": "yes" | "no", "detail": str}
    scale (0-10)                         -> int | None
    injuries                             -> [{"site": str, "since": str, "pain": int}] (<= 3)
    contraindications, medications       -> {"none": bool, "codes": [...], "sites": {code: str},
                                             "details": {code: str}}  (codes: contraindications.py)
"""

from __future__ import annotations

from flask import g
from sqlalchemy import select

from ..extensions import db
from ..models import IntakeTemplate

KINDS = (
    "text",
    "textarea",
    "yesno",
    "scale",
    "choice",
    "date",
    "injuries",
    "contraindications",
    "medications",
)

DEFAULT_TITLE = "Sports massage intake"

DEFAULT_CONSENT = (
    "I confirm that the information I have given is true and complete to the best of my "
    "knowledge. I will tell my therapist about any change in my health before each treatment. "
    "I understand that sports massage is a deep-tissue treatment that can cause temporary "
    "soreness, and I consent to assessment and treatment. I understand that my records are "
    "kept confidential and stored securely for the period the law and our insurers require."
)


def _q(key, label, kind, section, *, required=False, help=None, options=None, locked=False):
    question = {
        "key": key,
        "label": label,
        "kind": kind,
        "section": section,
        "required": required,
        "locked": locked,
    }
    if help:
        question["help"] = help
    if options:
        question["options"] = list(options)
    return question


DEFAULT_QUESTIONS: list[dict] = [
    _q(
        "activity",
        "Which sports or activities do you do, and how often?",
        "textarea",
        "Activity and goals",
        required=True,
        help="For example: running 4 times a week, 5-a-side football on Sundays.",
    ),
    _q(
        "upcoming_events",
        "Any upcoming events or competitions?",
        "text",
        "Activity and goals",
        help="Name and date, e.g. Manchester Marathon, 19 April.",
    ),
    _q(
        "goals",
        "What would you like to get from treatment?",
        "textarea",
        "Activity and goals",
        required=True,
    ),
    _q(
        "injuries",
        "Current injuries or areas of pain",
        "injuries",
        "Injuries",
        help="Where, since when, and how bad on a scale of 0 (none) to 10 (worst imaginable).",
        locked=True,
    ),
    _q(
        "medical_history",
        "Have you any medical conditions, past or present?",
        "yesno",
        "Medical history",
        required=True,
        help="Answer no if there are none; otherwise tell us what they are.",
        locked=True,
    ),
    _q(
        "surgery",
        "Have you had surgery or a serious injury in the last 2 years?",
        "yesno",
        "Medical history",
        required=True,
        locked=True,
    ),
    _q(
        "contraindications",
        "Do any of these apply to you today?",
        "contraindications",
        "Before treatment",
        required=True,
        help="Tick every one that applies, and say where for those that affect one area. "
        "Tick 'None of these' if none applies.",
        locked=True,
    ),
    _q(
        "medications",
        "Medications and medical devices",
        "medications",
        "Before treatment",
        required=True,
        help="Tick any that apply, or 'None of these'.",
        locked=True,
    ),
    _q(
        "other_medications",
        "Any other medication you take regularly",
        "textarea",
        "Before treatment",
    ),
]


def is_clinical_core(question: dict) -> bool:
    return bool(question.get("locked"))


def current_template() -> IntakeTemplate:
    """The bound clinic's newest intake version; version 1 is the default, created on first use."""
    template = db.session.scalars(
        select(IntakeTemplate).order_by(IntakeTemplate.version.desc()).limit(1)
    ).first()
    if template is None:
        template = IntakeTemplate(
            version=1,
            title=DEFAULT_TITLE,
            questions=[dict(q) for q in DEFAULT_QUESTIONS],
            consent_text=DEFAULT_CONSENT,
            created_by_id=None,
        )
        db.session.add(template)
        db.session.flush()
    return template


def template_version(version: int) -> IntakeTemplate | None:
    return db.session.scalars(
        select(IntakeTemplate).where(IntakeTemplate.version == version)
    ).first()


def publish(title: str, questions: list[dict], consent_text: str) -> IntakeTemplate:
    """A new version after the current one. Callers validate the questions first."""
    newest = current_template()
    membership = g.get("membership")
    template = IntakeTemplate(
        version=newest.version + 1,
        title=title,
        questions=questions,
        consent_text=consent_text,
        created_by_id=membership.id if membership is not None else None,
    )
    db.session.add(template)
    db.session.flush()
    return template

