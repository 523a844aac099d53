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
    yesno                                -> {"answer": "yes" | "no" | "" (not answered),
                                             "detail": str}
    scale (0-10)                         -> int | None
    injuries                             -> [{"site": str, "since": str, "pain": int}] (<= 3)
    contraindications, medications       -> {"none": bool, "codes": [...], "sites": {code: str},
                                             "details": {code: str}}  (codes: contraindications.py)
"""

from __future__ import annotations

import re

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


# Editing: what an owner may change, checked before publish() -------------------------------------

CUSTOM_KINDS = ("text", "textarea", "yesno", "scale", "choice", "date")
KIND_LABELS = {
    "text": "Short text",
    "textarea": "Long text",
    "yesno": "Yes / no (with details)",
    "scale": "Scale 0-10",
    "choice": "One of several options",
    "date": "Date",
    "injuries": "Injuries (where, since when, pain 0-10)",
    "contraindications": "Contraindication checklist",
    "medications": "Medication and device checklist",
}
# Checklists always need an answer: either the ticked items or an explicit "None of these".
ALWAYS_REQUIRED = ("contraindications", "medications")
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
KEY_BASE_MAX = 36  # leaves room for a "_2" suffix within the 40 characters of a key
TITLE_MIN, TITLE_MAX = 3, 120
LABEL_MIN, LABEL_MAX = 3, 300
HELP_MAX = 300
SECTION_MAX = 80
OPTION_MAX = 120
OPTIONS_MIN, OPTIONS_MAX = 2, 20
CONSENT_MIN, CONSENT_MAX = 20, 5000
QUESTIONS_MAX = 60
TEMPLATE_ERROR = "_template"  # errors key for the question list as a whole


def key_for(label: str, taken: set[str]) -> str:
    """A stable answer key for a new question, from its label: "Preferred pressure?" ->
    "preferred_pressure" (then "preferred_pressure_2" ... if taken)."""
    base = ""
    for word in re.findall(r"[a-z0-9]+", label.lower()):
        candidate = f"{base}_{word}" if base else word
        if len(candidate) > KEY_BASE_MAX:
            base = base or word[:KEY_BASE_MAX]
            break
        base = candidate
    if not base or not base[0].isalpha():
        base = f"q_{base}".strip("_") if base else "question"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


def _check_question(question: dict) -> str | None:
    kind = question.get("kind")
    if kind not in KINDS:
        return "Choose what kind of answer this question takes."
    label = question.get("label") or ""
    if not LABEL_MIN <= len(label) <= LABEL_MAX:
        return f"Write the question in {LABEL_MIN} to {LABEL_MAX} characters."
    if len(question.get("help") or "") > HELP_MAX:
        return f"Keep the hint under {HELP_MAX} characters."
    if not 1 <= len(question.get("section") or "") <= SECTION_MAX:
        return f"Give the section heading in 1 to {SECTION_MAX} characters."
    options = question.get("options") or []
    if kind == "choice":
        if len(options) < OPTIONS_MIN:
            return "Give at least two options, one per line."
        if len(options) > OPTIONS_MAX:
            return f"Give at most {OPTIONS_MAX} options."
        if len(set(options)) != len(options):
            return "Each option must be different."
        if any(not option or len(option) > OPTION_MAX for option in options):
            return f"Keep each option under {OPTION_MAX} characters."
    elif options:
        return (
            "Options are only for a question answered by choosing one: change its kind, "
            "or clear the options."
        )
    if kind in ALWAYS_REQUIRED and not question.get("required"):
        return "A checklist always needs an answer (the items, or 'None of these')."
    return None


def _check_against_core(question: dict, core_question: dict | None) -> str | None:
    """A core question keeps its kind; a new question must be of a kind clinics may add."""
    if core_question is not None:
        if question["kind"] != core_question["kind"] or not is_clinical_core(question):
            return "This question is part of the clinical core: its kind cannot change."
        return None
    if is_clinical_core(question) or question["kind"] not in CUSTOM_KINDS:
        return "Only short text, long text, yes/no, scale, choice or date can be added."
    return None


def check_template(
    title: str, questions: list[dict], consent_text: str, previous: list[dict]
) -> dict[str, str]:
    """Problems with a version about to be published, by field: "title", "consent_text", a
    question's key, or TEMPLATE_ERROR. The clinical core of `previous` must be kept, with the
    same keys and kinds, and only the custom kinds may be added."""
    errors: dict[str, str] = {}
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        errors["title"] = f"Give the form a title of {TITLE_MIN} to {TITLE_MAX} characters."
    if not CONSENT_MIN <= len(consent_text) <= CONSENT_MAX:
        errors["consent_text"] = (
            f"Write the consent the client signs, in {CONSENT_MIN} to {CONSENT_MAX} characters."
        )
    if not questions:
        errors[TEMPLATE_ERROR] = "A form needs at least one question."
    elif len(questions) > QUESTIONS_MAX:
        errors[TEMPLATE_ERROR] = f"A form can have at most {QUESTIONS_MAX} questions."
    core = {q["key"]: q for q in previous if is_clinical_core(q)}
    seen: set[str] = set()
    for question in questions:
        key = question.get("key") or ""
        if not KEY_PATTERN.match(key):
            errors[TEMPLATE_ERROR] = "Each question needs a key of lowercase letters and digits."
            continue
        if key in seen:
            errors[key] = "Two questions have the same key."
            continue
        seen.add(key)
        problem = _check_question(question) or _check_against_core(question, core.get(key))
        if problem:
            errors[key] = problem
    missing = [core[k]["label"] for k in core if k not in seen]
    if missing:
        errors[TEMPLATE_ERROR] = (
            "These questions are part of the clinical core and cannot be removed: "
            + "; ".join(missing)
        )
    return errors
