"""Reading a posted intake form into answers: every kind of question, and every bad input."""

from __future__ import annotations

import json
from datetime import date
from types import SimpleNamespace

import pytest
from werkzeug.datastructures import MultiDict

from clinic_saas.clinical.contraindications import flags_from_answers
from clinic_saas.clinical.intake import (
    ANSWERS_MAX,
    FORM_ERROR,
    Signature,
    parse_answers,
    prefill,
    read_signature,
    signature_errors,
)
from clinic_saas.clinical.templates import DEFAULT_QUESTIONS
from clinic_saas.models import Client


def q(key, kind, required=False, **extra):
    return {"key": key, "label": key.title(), "kind": kind, "section": "S", "required": required}


FORM = SimpleNamespace(
    questions=[
        q("nickname", "text"),
        q("story", "textarea"),
        q("massage_before", "yesno", required=True),
        q("stress", "scale"),
        {**q("pressure", "choice"), "options": ["Light", "Medium", "Firm"]},
        q("next_event", "date"),
        q("injuries", "injuries"),
        q("contraindications", "contraindications", required=True),
        q("medications", "medications", required=True),
    ]
)


def posted(**fields) -> MultiDict:
    data = MultiDict(
        {
            "q-massage_before": "no",
            "q-contraindications-none": "1",
            "q-medications-none": "1",
        }
    )
    for name, value in fields.items():
        name = "q-" + name.replace("__", "-")
        data.poplist(name)
        if isinstance(value, list):
            data.setlist(name, value)
        elif value is not None:
            data[name] = value
    return data


def parse(**fields):
    return parse_answers(FORM, posted(**fields))


def test_a_complete_form_gives_every_kind_its_own_shape():
    answers, errors = parse(
        nickname="  Ada  ",
        story="Line one\r\nLine two",
        massage_before="yes",
        massage_before__detail="Twice, last year",
        stress="7",
        pressure="Firm",
        next_event="2031-04-19",
        injuries__1__site="left calf",
        injuries__1__since="March",
        injuries__1__pain="4",
        injuries__3__site="right shoulder",
        injuries__3__pain="0",
        contraindications__none=None,
        contraindications__codes=["varicose_veins", "pregnancy"],
        contraindications__site__varicose_veins="left calf",
        medications__none=None,
        medications__codes=["anticoagulants"],
        medications__detail__anticoagulants="Warfarin 5 mg",
    )
    assert errors == {}
    assert answers == {
        "nickname": "Ada",
        "story": "Line one\nLine two",
        "massage_before": {"answer": "yes", "detail": "Twice, last year"},
        "stress": 7,
        "pressure": "Firm",
        "next_event": "2031-04-19",
        "injuries": [
            {"site": "left calf", "since": "March", "pain": 4},
            {"site": "right shoulder", "since": "", "pain": 0},
        ],
        "contraindications": {
            "none": False,
            "codes": ["varicose_veins", "pregnancy"],
            "sites": {"varicose_veins": "left calf"},
            "details": {},
        },
        "medications": {
            "none": False,
            "codes": ["anticoagulants"],
            "sites": {},
            "details": {"anticoagulants": "Warfarin 5 mg"},
        },
    }
    flags = flags_from_answers(FORM.questions, answers)
    assert [f["code"] for f in flags] == ["varicose_veins", "pregnancy", "anticoagulants"]


def test_optional_questions_left_empty_store_empty_values():
    answers, errors = parse()
    assert errors == {}
    assert answers["nickname"] == "" and answers["story"] == ""
    assert answers["stress"] is None
    assert answers["pressure"] == "" and answers["next_event"] == ""
    assert answers["injuries"] == []
    assert answers["contraindications"] == {"none": True, "codes": [], "sites": {}, "details": {}}


def test_required_questions_must_be_answered():
    required = SimpleNamespace(
        questions=[
            q("a", "text", True),
            q("b", "textarea", True),
            q("c", "yesno", True),
            q("d", "scale", True),
            {**q("e", "choice", True), "options": ["x", "y"]},
            q("f", "date", True),
            q("g", "injuries", True),
        ]
    )
    _, errors = parse_answers(required, MultiDict({"q-a": "   ", "q-b": "\n\n"}))
    assert set(errors) == {"a", "b", "c", "d", "e", "f", "g"}
    assert errors["c"] == "Answer yes or no."
    assert errors["d"] == "Choose a number from 0 to 10."


@pytest.mark.parametrize(
    "fields, key, message",
    [
        ({"massage_before": "maybe"}, "massage_before", "Answer yes or no."),
        ({"massage_before": None}, "massage_before", "Answer yes or no."),
        ({"stress": "11"}, "stress", "Choose a number from 0 to 10."),
        ({"stress": "-1"}, "stress", "Choose a number from 0 to 10."),
        ({"stress": "3.5"}, "stress", "Choose a number from 0 to 10."),
        ({"stress": "five"}, "stress", "Choose a number from 0 to 10."),
        ({"pressure": "Brutal"}, "pressure", "Choose one of the options given."),
        ({"next_event": "19/04/2031"}, "next_event", "year-month-day"),
        ({"next_event": "2031-02-30"}, "next_event", "year-month-day"),
        ({"next_event": "20310419"}, "next_event", "year-month-day"),
        ({"next_event": "1850-01-01"}, "next_event", "Enter a date between 1900"),
        ({"next_event": "2999-01-01"}, "next_event", "Enter a date between 1900"),
        ({"nickname": "x" * 201}, "nickname", "at most 200 characters (this has 201)"),
        ({"story": "x" * 2001}, "story", "at most 2000 characters"),
        ({"massage_before__detail": "x" * 501}, "massage_before", "at most 500"),
        ({"injuries__1__pain": "4"}, "injuries", "Line 1: say where it hurts."),
        ({"injuries__2__site": "knee"}, "injuries", "Line 2: rate the pain"),
        ({"injuries__1__site": "knee", "injuries__1__pain": "12"}, "injuries", "rate the pain"),
        ({"injuries__1__site": "k" * 121, "injuries__1__pain": "2"}, "injuries", "120 characters"),
        (
            {"injuries__1__site": "knee", "injuries__1__pain": "2", "injuries__1__since": "s" * 61},
            "injuries",
            "60 characters",
        ),
        (
            {"contraindications__codes": ["fever"]},
            "contraindications",
            "Tick 'None of these' or the ones that apply, not both.",
        ),
        (
            {"contraindications__none": None},
            "contraindications",
            "Tick the ones that apply, or 'None of these'.",
        ),
        (
            {"medications__none": None},
            "medications",
            "Tick the ones that apply, or 'None of these'.",
        ),
        (
            {"contraindications__none": None, "contraindications__codes": ["dragon_pox"]},
            "contraindications",
            "not on this form",
        ),
        (
            # a medication code is not a contraindication code, and the other way round
            {"medications__none": None, "medications__codes": ["fever"]},
            "medications",
            "not on this form",
        ),
        (
            {"contraindications__none": None, "contraindications__codes": ["dvt"]},
            "contraindications",
            "Deep vein thrombosis or blood clots: where?",
        ),
        (
            {
                "contraindications__none": None,
                "contraindications__codes": ["dvt"],
                "contraindications__site__dvt": "s" * 121,
            },
            "contraindications",
            "120 characters",
        ),
        (
            {
                "medications__none": None,
                "medications__codes": ["beta_blockers"],
                "medications__detail__beta_blockers": "d" * 501,
            },
            "medications",
            "500 characters",
        ),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(fields, key, message):
    _, errors = parse(**fields)
    assert key in errors, errors
    assert message in errors[key]


def test_a_date_on_the_edges_of_plausible_is_accepted():
    answers, errors = parse(next_event="1900-01-01")
    assert errors == {} and answers["next_event"] == "1900-01-01"


def test_sites_of_unticked_conditions_are_not_kept_and_codes_are_deduplicated():
    answers, errors = parse(
        contraindications__none=None,
        contraindications__codes=["fever", "fever"],
        contraindications__site__dvt="left calf",
    )
    assert errors == {}
    assert answers["contraindications"]["codes"] == ["fever"]
    assert answers["contraindications"]["sites"] == {}


def test_answers_are_kept_as_typed_even_with_markup_and_control_characters_removed():
    answers, errors = parse(nickname="<script>alert(1)</script>\x00\x07", story="a\tb")
    assert errors == {}
    assert answers["nickname"] == "<script>alert(1)</script>"
    assert answers["story"] == "a\tb"


def test_the_whole_answers_document_has_a_size_limit():
    big = SimpleNamespace(questions=[q(f"t{n}", "textarea") for n in range(12)])
    form = MultiDict({f"q-t{n}": "x" * 1900 for n in range(12)})
    answers, errors = parse_answers(big, form)
    assert set(errors) == {FORM_ERROR}
    assert "too long" in errors[FORM_ERROR]
    assert len(json.dumps(answers)) > ANSWERS_MAX


def test_answers_are_returned_with_the_errors_so_nothing_typed_is_lost():
    answers, errors = parse(nickname="Ada", stress="42", massage_before=None)
    assert answers["nickname"] == "Ada"
    assert set(errors) == {"stress", "massage_before"}


def test_prefill_keeps_only_answers_that_still_fit_their_question():
    new_version = [
        {**q("pressure", "choice"), "options": ["Light", "Firm"]},
        q("stress", "text"),  # was a scale
        q("story", "textarea"),
        q("contraindications", "contraindications"),
        q("brand_new", "yesno"),
    ]
    old = {
        "pressure": "Medium",
        "stress": 7,
        "story": "kept",
        "contraindications": {"none": True, "codes": [], "sites": {}, "details": {}},
    }
    shown = prefill(new_version, old)
    assert shown["pressure"] == ""
    assert shown["stress"] == ""
    assert shown["story"] == "kept"
    assert shown["contraindications"]["none"] is True
    assert shown["brand_new"] == {"answer": "", "detail": ""}


def test_the_default_form_parses_a_minimal_honest_answer():
    template = SimpleNamespace(questions=DEFAULT_QUESTIONS)
    answers, errors = parse_answers(
        template,
        MultiDict(
            {
                "q-activity": "Running",
                "q-goals": "Recover",
                "q-medical_history": "no",
                "q-surgery": "no",
                "q-contraindications-none": "1",
                "q-medications-none": "1",
            }
        ),
    )
    assert errors == {}
    assert flags_from_answers(DEFAULT_QUESTIONS, answers) == []


def test_signature_needs_consent_a_typed_name_and_a_guardian_for_a_minor():
    adult = Client(first_name="Ada", last_name="Runner", date_of_birth=date(1990, 5, 1))
    child = Client(first_name="Sam", last_name="Runner", date_of_birth=date(2015, 5, 1))
    today = date(2031, 3, 3)
    ok = Signature("Ada Runner", guardian=False, consent=True)
    assert signature_errors(adult, ok, today) == {}
    assert set(signature_errors(adult, Signature("A", False, False), today)) == {
        "consent",
        "signed_name",
    }
    assert set(signature_errors(adult, Signature("x" * 121, False, True), today)) == {"signed_name"}
    assert "under 18" in signature_errors(child, ok, today)["guardian"]
    parent = Client(first_name="Jo", last_name="Runner")
    assert signature_errors(child, Signature("Jo Runner", True, True), today, parent) == {}
    assert (
        "on record"
        in signature_errors(child, Signature("Jo Runner", True, True), today)["guardian"]
    )
    assert set(signature_errors(adult, Signature("Mickey Mouse", False, True), today)) == {
        "signed_name"
    }
    sig = read_signature(MultiDict({"signed_name": "  Jo   Runner ", "guardian": "1"}))
    assert sig == Signature("Jo Runner", True, False)
