"""Forms of the treatment note: the SOAP note itself and an amendment.

The rules (pain 0-10, minutes 1-180, known regions and techniques, lengths) live in
clinical/notes.py:clean, the one place that decides what a note may hold; these forms carry the
fields and show the messages clean() gives back.
"""

from __future__ import annotations

from wtforms import (
    FieldList,
    FormField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)

from ...clinical import notes
from ..forms import BaseForm, RowForm, strip

NUMBER = {"type": "number", "inputmode": "numeric"}
EXTRA_ROWS = 3  # blank technique rows offered under those already written


class TechniqueRowForm(RowForm):
    technique = SelectField("Technique", choices=[], validate_choice=False)
    region = SelectField("Region", choices=[], validate_choice=False)
    minutes = StringField(
        "Minutes",
        render_kw={**NUMBER, "min": notes.MINUTES_MIN, "max": notes.MINUTES_MAX},
        filters=[strip],
    )
    purpose = StringField("Purpose", render_kw={"maxlength": notes.SHORT_MAX}, filters=[strip])


def _text_area(label: str, description: str | None = None) -> TextAreaField:
    return TextAreaField(
        label,
        description=description,
        render_kw={"rows": 4, "maxlength": notes.TEXT_MAX},
    )


class NoteForm(BaseForm):
    subjective = _text_area(
        "What the client says",
        "Their words: where it hurts, since when, what makes it better or worse; their goals.",
    )
    pain_before = StringField(
        "Pain before", render_kw={**NUMBER, "min": 0, "max": 10}, filters=[strip]
    )
    pain_after = StringField(
        "Pain after", render_kw={**NUMBER, "min": 0, "max": 10}, filters=[strip]
    )
    objective = _text_area("What you found", "Posture, range of motion, palpation, tissue quality.")
    gait = _text_area("Movement and gait", "Movement analysis and gait findings.")
    assessment = _text_area("Assessment", "Your assessment and the functional outcome.")
    regions = SelectMultipleField("Body regions worked on", choices=[], validate_choice=False)
    techniques = FieldList(FormField(TechniqueRowForm), max_entries=notes.MAX_TECHNIQUES)
    plan = _text_area("Plan", "Home care, exercises, the course of treatment.")
    next_visit = StringField(
        "Next visit",
        render_kw={"maxlength": notes.SHORT_MAX},
        description="A date, or in words: “in two weeks, before the race”.",
        filters=[strip],
    )
    referral = _text_area("Referral", "To a GP, physiotherapist or specialist, and why.")

    def prepare(self, technique_choices: list[tuple[str, str]], *, pad: bool) -> None:
        """Give each technique row its choices, with blank rows to fill in when `pad`."""
        if pad:
            while (
                len(self.techniques.entries) < notes.MAX_TECHNIQUES
                and sum(1 for row in self.techniques if not row.form.technique.data) < EXTRA_ROWS
            ):
                self.techniques.append_entry()
        regions = [("", "Choose…")] + [(r.code, r.label) for r in notes.REGIONS]
        for row in self.techniques:
            row.form.technique.choices = [("", "Choose…"), *technique_choices]
            row.form.region.choices = regions

    def raw(self) -> dict:
        """What was typed, for notes.clean to check."""
        raw = {name: getattr(self, name).data for name in notes.TEXT_FIELDS}
        raw.update(
            pain_before=self.pain_before.data,
            pain_after=self.pain_after.data,
            next_visit=self.next_visit.data,
            regions=list(self.regions.data or []),
            techniques=[dict(row.data) for row in self.techniques],
        )
        return raw

    def show_errors(self, errors: dict[str, str]) -> None:
        """Put the messages of notes.clean beside their fields."""
        fields = {}
        for field in self:
            fields[field.name] = field
            if isinstance(field, FieldList):
                for row in field:
                    for sub in row.form:
                        fields[sub.name] = sub
        for name, message in errors.items():
            field = fields.get(name) or self.techniques
            field.errors = [*field.errors, message]

    def selected_regions(self) -> set[str]:
        """The checkbox values to tick: "hamstrings:both" ticks both left and right."""
        ticked = set()
        for value in self.regions.data or []:
            code, _, side = str(value).partition(":")
            if side == "both":
                ticked.update({f"{code}:left", f"{code}:right"})
            else:
                ticked.add(str(value))
        return ticked


def form_data(content: dict) -> dict:
    """A stored note as the form's initial data."""
    data = {name: content.get(name) or "" for name in notes.TEXT_FIELDS}
    for name in ("pain_before", "pain_after"):
        value = content.get(name)
        data[name] = "" if value is None else str(value)
    data["next_visit"] = content.get("next_visit") or ""
    data["regions"] = [
        f"{r['region']}:{r['side']}" if r.get("side") else r["region"]
        for r in content.get("regions") or []
    ]
    data["techniques"] = [
        {
            "technique": t.get("technique") or "",
            "region": t.get("region") or "",
            "minutes": "" if t.get("minutes") is None else str(t["minutes"]),
            "purpose": t.get("purpose") or "",
        }
        for t in content.get("techniques") or []
    ]
    return data


class AmendForm(BaseForm):
    text = TextAreaField(
        "Amendment",
        render_kw={"rows": 4, "maxlength": notes.TEXT_MAX},
        description="What was wrong or missing, and the correction. The signed note stays as "
        "it was; this is added below it with your name and today's date.",
    )
