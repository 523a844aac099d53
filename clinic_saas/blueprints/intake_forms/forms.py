"""The intake form editor, as plain posted fields: one block per question and a few blank rows
for new questions, so that it works without JavaScript.

Fields of an existing question (by its key): e-<key>-label, -help, -section, -required,
-options (one per line, choice only), -position, -remove. A new question: new-<n>-label, -kind,
-section, -help, -required, -options, -position. Then title and consent_text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ...clinical import templates
from ...models import IntakeTemplate

NEW_ROWS = 3
_TICKED = {"1", "on", "yes", "true"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _line(value: object) -> str:
    return " ".join(_CONTROL.sub("", value if isinstance(value, str) else "").split())


def _block(value: object) -> str:
    text = (value if isinstance(value, str) else "").replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


@dataclass
class Row:
    """One question of the editor, as shown and as posted."""

    prefix: str
    key: str | None
    kind: str
    locked: bool
    label: str = ""
    help: str = ""
    section: str = ""
    required: bool = False
    options: str = ""
    position: str = ""
    remove: bool = False
    error: str | None = None

    @property
    def is_new(self) -> bool:
        return self.key is None

    @property
    def always_required(self) -> bool:
        return self.kind in templates.ALWAYS_REQUIRED

    def field(self, name: str) -> str:
        return f"{self.prefix}-{name}"


@dataclass
class Editor:
    title: str
    consent_text: str
    rows: list[Row]
    errors: dict[str, str]

    @property
    def new_rows(self) -> list[Row]:
        return [r for r in self.rows if r.is_new]

    @property
    def existing_rows(self) -> list[Row]:
        return [r for r in self.rows if not r.is_new]


def _blank_rows(section: str) -> list[Row]:
    return [Row(f"new-{n}", None, "text", False, section=section) for n in range(1, NEW_ROWS + 1)]


def editor_for(template: IntakeTemplate) -> Editor:
    """The editor filled with a version's questions, as the starting point of the next one."""
    rows = [
        Row(
            prefix=f"e-{q['key']}",
            key=q["key"],
            kind=q["kind"],
            locked=templates.is_clinical_core(q),
            label=q.get("label", ""),
            help=q.get("help", ""),
            section=q.get("section", ""),
            required=bool(q.get("required")),
            options="\n".join(q.get("options") or []),
            position=str((i + 1) * 10),
        )
        for i, q in enumerate(template.questions)
    ]
    last_section = template.questions[-1].get("section", "") if template.questions else ""
    return Editor(template.title, template.consent_text, rows + _blank_rows(last_section), {})


def _read_row(row: Row, form: Mapping) -> Row:
    row.label = _line(form.get(row.field("label")))
    row.help = _line(form.get(row.field("help")))
    row.section = _line(form.get(row.field("section")))
    row.required = _line(form.get(row.field("required"))) in _TICKED or row.always_required
    row.options = _block(form.get(row.field("options")))
    row.position = _line(form.get(row.field("position")))
    row.remove = not row.locked and _line(form.get(row.field("remove"))) in _TICKED
    return row


def read_editor(template: IntakeTemplate, form: Mapping) -> Editor:
    """What the owner posted, row by row, over the version being edited."""
    rows = []
    for question in template.questions:
        row = Row(
            f"e-{question['key']}",
            question["key"],
            question["kind"],
            templates.is_clinical_core(question),
        )
        rows.append(_read_row(row, form))
    for n in range(1, NEW_ROWS + 1):
        row = Row(f"new-{n}", None, "text", False)
        row = _read_row(row, form)
        kind = _line(form.get(row.field("kind")))
        row.kind = kind if kind in templates.CUSTOM_KINDS else "text"
        rows.append(row)
    return Editor(_line(form.get("title")), _block(form.get("consent_text")), rows, errors={})


def _question(row: Row, key: str) -> dict:
    question = {
        "key": key,
        "label": row.label,
        "kind": row.kind,
        "section": row.section,
        "required": row.required,
        "locked": row.locked,
    }
    if row.help:
        question["help"] = row.help
    options = [_line(o) for o in row.options.split("\n") if _line(o)]
    if options or row.kind == "choice":  # options on another kind are refused, not dropped
        question["options"] = options
    return question


def build_questions(editor: Editor, previous: list[dict]) -> list[dict] | None:
    """The new version's questions in their new order; None (and errors set on the editor's
    rows) when positions or questions are not acceptable."""
    ordered: list[tuple[int, int, Row, dict]] = []
    taken = {q["key"] for q in previous}
    by_key: dict[str, Row] = {}
    for index, row in enumerate(editor.rows):
        if row.remove or (row.is_new and not row.label):
            continue
        if row.position and not re.fullmatch(r"-?\d{1,4}", row.position):
            row.error = "Give the position as a whole number, e.g. 25."
            continue
        if row.position:
            position = int(row.position)
        else:  # a blank position keeps the question where it was, or adds it at the end
            position = (index + 1) * 10 if not row.is_new else 100_000 + index
        key = row.key or templates.key_for(row.label, taken)
        taken.add(key)
        by_key[key] = row
        ordered.append((position, index, row, _question(row, key)))
    ordered.sort(key=lambda item: (item[0], item[1]))
    questions = [item[3] for item in ordered]
    errors = templates.check_template(editor.title, questions, editor.consent_text, previous)
    for key, message in errors.items():
        if key in by_key:
            by_key[key].error = message
        else:
            editor.errors[key] = message
    if errors or any(row.error for row in editor.rows):
        return None
    return questions
