"""Contraindications to massage (DOMAIN.md), how serious each is, and the flags they raise.

The intake's "contraindications" question answers with {"none": bool, "codes": [...],
"sites": {code: "left calf"}, "details": {code: "..."}}; the "medications" question the same way
with its own codes. flags_from_answers turns those into the red flags the therapist must see.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta


class FlagLevel(enum.StrEnum):
    ABSOLUTE = "absolute"  # no massage today
    LOCAL = "local"  # avoid the area
    DOCTOR = "doctor"  # a doctor's note advised before treatment
    CAUTION = "caution"  # medication or device the therapist must know about

    @property
    def rank(self) -> int:
        return list(FlagLevel).index(self)

    @property
    def label(self) -> str:
        return {
            "absolute": "Absolute",
            "local": "Local",
            "doctor": "Doctor's note",
            "caution": "Caution",
        }[self.value]

    @property
    def advice(self) -> str:
        return {
            "absolute": "no treatment today",
            "local": "avoid the area",
            "doctor": "doctor's note advised before treatment",
            "caution": "adjust pressure and technique",
        }[self.value]


@dataclass(frozen=True)
class Condition:
    """One box of the checklist. `lasts` is set for a time-bound condition (fever today, an injury
    under 72 hours, surgery in the last 3 months...): once that long has passed since the intake
    reported it, the flag asks the therapist to reassess instead of stating it as current."""

    code: str
    label: str
    level: FlagLevel
    asks_site: bool = False
    lasts: timedelta | None = None


ONE_DAY = timedelta(days=1)

# Time-bound conditions say when they stop being current: fever and being under the influence
# "today" (a day), contagious illness (two weeks), an acute injury (72 hours), recent surgery
# (3 months, as 91 days).
CONDITIONS: tuple[Condition, ...] = (
    Condition("fever", "Fever or feeling unwell today", FlagLevel.ABSOLUTE, lasts=ONE_DAY),
    Condition(
        "contagious",
        "Contagious illness or skin infection",
        FlagLevel.ABSOLUTE,
        lasts=timedelta(days=14),
    ),
    Condition(
        "influence", "Under the influence of alcohol or drugs", FlagLevel.ABSOLUTE, lasts=ONE_DAY
    ),
    Condition("haemophilia", "Haemophilia or another bleeding disorder", FlagLevel.ABSOLUTE),
    Condition(
        "acute_injury",
        "Acute injury less than 72 hours old",
        FlagLevel.ABSOLUTE,
        True,
        lasts=timedelta(hours=72),
    ),
    Condition("organ_disease", "Advanced liver, kidney or respiratory disease", FlagLevel.ABSOLUTE),
    Condition("dvt", "Deep vein thrombosis or blood clots", FlagLevel.LOCAL, True),
    Condition(
        "recent_surgery",
        "Surgery in the last 3 months",
        FlagLevel.LOCAL,
        True,
        lasts=timedelta(days=91),
    ),
    Condition("open_wound", "Open wounds or cuts", FlagLevel.LOCAL, True),
    Condition("burn", "Burns, including sunburn", FlagLevel.LOCAL, True),
    Condition("fracture", "Fracture, healing or suspected", FlagLevel.LOCAL, True),
    Condition("varicose_veins", "Varicose veins", FlagLevel.LOCAL, True),
    Condition("inflammation", "Inflammation (hot, red, swollen area)", FlagLevel.LOCAL, True),
    Condition("oedema", "Oedema (fluid swelling)", FlagLevel.LOCAL, True),
    Condition("pregnancy", "Pregnancy", FlagLevel.DOCTOR),
    Condition("cancer", "Cancer, current or in treatment", FlagLevel.DOCTOR),
    Condition("heart", "Heart condition or high blood pressure", FlagLevel.DOCTOR),
    Condition("epilepsy", "Epilepsy", FlagLevel.DOCTOR),
    Condition("diabetes", "Diabetes", FlagLevel.DOCTOR),
)

MEDICATIONS: tuple[Condition, ...] = (
    Condition("anticoagulants", "Anticoagulants (blood thinners)", FlagLevel.CAUTION),
    Condition("beta_blockers", "Beta-blockers", FlagLevel.CAUTION),
    Condition("muscle_relaxants", "Muscle relaxants", FlagLevel.CAUTION),
    Condition("pacemaker", "Pacemaker", FlagLevel.CAUTION),
    Condition("joint_replacement", "Joint replacement", FlagLevel.CAUTION, True),
)

BY_CODE = {c.code: c for c in CONDITIONS + MEDICATIONS}
SITE_MAX = 120
DETAIL_MAX = 500


def flags_from_answers(questions: list[dict], answers: dict) -> list[dict]:
    """The red flags in a set of answers, most serious first.

    Each flag is {"level", "code", "label", "site", "detail"}; stored encrypted with the answers.
    """
    flags = []
    for question in questions:
        if question.get("kind") not in {"contraindications", "medications"}:
            continue
        answer = answers.get(question["key"]) or {}
        sites = answer.get("sites") or {}
        details = answer.get("details") or {}
        for code in answer.get("codes") or []:
            condition = BY_CODE.get(code)
            if condition is None:
                continue
            flags.append(
                {
                    "level": condition.level.value,
                    "code": code,
                    "label": condition.label,
                    "site": (sites.get(code) or "").strip()[:SITE_MAX] or None,
                    "detail": (details.get(code) or "").strip()[:DETAIL_MAX] or None,
                }
            )
    flags.sort(key=lambda f: FlagLevel(f["level"]).rank)
    return flags


def describe(flag: dict) -> str:
    """One line for the day sheet: "Absolute: no treatment today (Fever or feeling unwell)",
    "Local: avoid the left calf (Varicose veins)"."""
    level = FlagLevel(flag["level"])
    if level is FlagLevel.LOCAL and flag.get("site"):
        head = f"avoid the {flag['site']}"
    else:
        head = level.advice
    return f"{level.label}: {head} ({flag['label']})"


def lapsed(flag: dict, reported_at: datetime, at: datetime) -> bool:
    """Whether a time-bound flag reported at `reported_at` has outlived its window by `at` (an
    appointment's start). Flags of other conditions never lapse."""
    condition = BY_CODE.get(flag.get("code"))
    lasts = condition.lasts if condition is not None else None
    return lasts is not None and at >= reported_at + lasts


def describe_reported(flag: dict, reported_on: str, *, lapsed: bool) -> str:
    """The line for an appointment, with the day the intake reported the flag:
    "Absolute: no treatment today (Fever or feeling unwell today), reported on 1 Dec"; or, once a
    time-bound condition's window has passed by the appointment,
    "Acute injury less than 72 hours old (right ankle), reported on 1 Dec: reassess before
    treating"."""
    if not lapsed:
        return f"{describe(flag)}, reported on {reported_on}"
    site = f" ({flag['site']})" if flag.get("site") else ""
    return f"{flag['label']}{site}, reported on {reported_on}: reassess before treating"


def highest_level(flags: list[dict]) -> FlagLevel | None:
    return min((FlagLevel(f["level"]) for f in flags), key=lambda lv: lv.rank, default=None)
