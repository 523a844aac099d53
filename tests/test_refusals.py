"""Refusals: one family of domain errors, and every page that shows one keeps nothing it wrote."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

import clinic_saas
from clinic_saas import create_app, tenancy
from clinic_saas.extensions import db
from clinic_saas.models import Appointment, AppointmentStatus, Client, Clinic, User
from clinic_saas.permissions import public
from clinic_saas.refusals import Conflict, Gone, Refusal
from clinic_saas.scheduling import booking
from clinic_saas.scheduling.booking import BookingError, SlotTaken

from .conftest import test_config
from .factories import add_appointment, build_schedule

BLUEPRINTS = Path(clinic_saas.__file__).parent / "blueprints"
# Calls that drop the request's writes before a refusal is shown.
DISCARDING_CALLS = {"place_refusal", "one_click", "flash_refusal", "discard_changes"}
# Reviewed handlers that show a refusal and keep what the request wrote before it, with why:
KEEPS_EARLIER_WRITES = {
    # "Save and sign": the draft typed is saved even when the note is not complete enough to sign.
    ("notes/routes.py", "_sign", "NoteError"),
}
LONDON = ZoneInfo("Europe/London")
MONDAY = date(2031, 6, 2)


# The family ---------------------------------------------------------------------------------------


def test_a_refusal_is_a_400_with_its_message_and_no_field_by_default():
    refusal = Refusal("Enter a name.")
    assert str(refusal) == refusal.message == "Enter a name."
    assert refusal.status == 400
    assert refusal.field is None and refusal.fields == {}
    assert isinstance(refusal, ValueError)  # callers that expect ValueError keep working


def test_a_refusal_names_one_field_or_a_message_per_field():
    assert Refusal("Enter a valid email.", field="email").field == "email"
    assert Refusal("Enter a valid email.", "email").field == "email"
    fields = {"text": "Write the correction.", "pain_before": "0 to 10."}
    refusal = Refusal("Check the highlighted parts.", fields=fields)
    assert refusal.fields == fields and refusal.field is None


def test_conflict_and_gone_carry_their_http_status():
    assert Conflict("Taken meanwhile.").status == 409
    assert Gone("This link has expired.").status == 410
    assert isinstance(Conflict("x"), Refusal) and isinstance(Gone("x"), Refusal)


def test_every_domain_error_is_a_refusal_with_the_status_it_means():
    from clinic_saas.accounts.errors import AccountError
    from clinic_saas.clients.records import ClientError
    from clinic_saas.clinical.flags import AcknowledgementError
    from clinic_saas.clinical.intake import IntakeError, IntakeLinkError, IntakeLinkGone
    from clinic_saas.clinical.notes import NoteBlocked, NoteError, NoteLocked
    from clinic_saas.menu.offers import OfferError
    from clinic_saas.menu.pricing import PricingError
    from clinic_saas.menu.services import MenuError
    from clinic_saas.records.erasure import ErasureRefused
    from clinic_saas.sales.memberships import MembershipError
    from clinic_saas.sales.packages import PackageError
    from clinic_saas.scheduling.roster_admin import RosterError

    statuses = {
        AccountError: 400,
        AcknowledgementError: 400,
        BookingError: 400,
        ClientError: 400,
        ErasureRefused: 409,
        IntakeError: 400,
        IntakeLinkError: 400,
        IntakeLinkGone: 410,
        MembershipError: 400,
        MenuError: 400,
        NoteBlocked: 400,
        NoteError: 400,
        NoteLocked: 409,
        OfferError: 400,
        PackageError: 400,
        PricingError: 400,
        RosterError: 400,
        SlotTaken: 409,
    }
    for error_class, status in statuses.items():
        assert issubclass(error_class, Refusal), error_class
        assert error_class("Refused.").status == status, error_class
    assert ClientError("Too young.", "date_of_birth").field == "date_of_birth"
    assert NoteError("Check it.", fields={"text": "Too short."}).fields == {"text": "Too short."}


def test_refusals_stand_on_the_ground_floor():
    """refusals.py imports nothing of clinic_saas, so every layer may raise a Refusal."""
    tree = ast.parse((BLUEPRINTS.parent / "refusals.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0 and not (node.module or "").startswith("clinic_saas")
        elif isinstance(node, ast.Import):
            assert not any(alias.name.startswith("clinic_saas") for alias in node.names)


# Every view that catches a refusal drops the request's writes -------------------------------------


def _import_everything() -> None:
    """Every module of the package, so that every Refusal subclass is defined."""
    for module in pkgutil.walk_packages(clinic_saas.__path__, "clinic_saas."):
        importlib.import_module(module.name)


def _refusal_classes() -> set[type]:
    _import_everything()
    found, stack = set(), [Refusal]
    while stack:
        cls = stack.pop()
        found.add(cls)
        stack.extend(cls.__subclasses__())
    return found


def _caught(handler: ast.ExceptHandler, namespace: dict) -> list[type]:
    """The classes an except clause names, resolved in its module's namespace."""
    if handler.type is None:
        return []
    expressions = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    caught = []
    for expression in expressions:
        value = namespace
        for part in ast.unparse(expression).split("."):
            value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
        if isinstance(value, type):
            caught.append(value)
    return caught


def _drops_writes(handler: ast.ExceptHandler) -> bool:
    for node in ast.walk(ast.Module(body=handler.body, type_ignores=[])):
        if isinstance(node, ast.Raise):
            return True
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in DISCARDING_CALLS:
                return True
    return False


def _handlers(tree: ast.AST):
    """(enclosing function name, except handler) for every handler of a module."""
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                if isinstance(node, ast.ExceptHandler):
                    yield function.name, node


def refusal_handlers_that_keep_writes() -> list[str]:
    """file:line of every except clause catching a Refusal whose body does not drop the writes."""
    refusals = _refusal_classes()
    offenders = []
    for path in sorted(BLUEPRINTS.rglob("*.py")):
        relative = path.relative_to(BLUEPRINTS).as_posix()
        module = importlib.import_module(
            "clinic_saas.blueprints." + relative.removesuffix(".py").replace("/", ".")
        )
        seen = set()
        for function, handler in _handlers(ast.parse(path.read_text())):
            if handler.lineno in seen:  # a nested function's handler is walked twice
                continue
            seen.add(handler.lineno)
            caught = [cls for cls in _caught(handler, vars(module)) if cls in refusals]
            if not caught or _drops_writes(handler):
                continue
            if all((relative, function, cls.__name__) in KEEPS_EARLIER_WRITES for cls in caught):
                continue
            names = ", ".join(cls.__name__ for cls in caught)
            offenders.append(f"clinic_saas/blueprints/{relative}:{handler.lineno} ({names})")
    return offenders


def test_every_view_that_catches_a_refusal_drops_the_requests_writes():
    offenders = refusal_handlers_that_keep_writes()
    assert not offenders, (
        "These handlers show a refusal but keep what the request wrote: use place_refusal, "
        "one_click or flash_refusal (blueprints/refusal_views.py), or discard_changes():\n"
        + "\n".join(offenders)
    )


def test_the_walk_finds_handlers_of_refusals_by_their_real_classes():
    """A guard on the guard: the walk sees the handlers it is meant to judge."""
    refusals = _refusal_classes()
    module = importlib.import_module("clinic_saas.blueprints.appointments.booking")
    tree = ast.parse((BLUEPRINTS / "appointments/booking.py").read_text())
    caught = {
        cls.__name__
        for _, handler in _handlers(tree)
        for cls in _caught(handler, vars(module))
        if cls in refusals
    }
    assert {"ClientError", "SlotTaken", "BookingError"} <= caught
    assert ValueError not in refusals


# Through the pages --------------------------------------------------------------------------------


@pytest.fixture
def schedule(app, clinic_a):
    return build_schedule(app, clinic_a)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON).astimezone(UTC)


def _count(app, schedule, model) -> int:
    with app.app_context():
        clinic = db.session.get(Clinic, schedule.clinic_id)
        with tenancy.bound_to(clinic):
            return db.session.scalar(select(func.count()).select_from(model))


def _appointment(app, schedule, appointment_id) -> Appointment:
    with app.app_context():
        clinic = db.session.get(Clinic, schedule.clinic_id)
        with tenancy.bound_to(clinic):
            return db.session.scalar(select(Appointment).where(Appointment.id == appointment_id))


def test_a_booking_clash_stores_neither_the_booking_nor_the_new_client(
    app, client, auth, clinic_a, schedule
):
    from clinic_saas.scheduling.free_times import SlotChoice

    add_appointment(app, schedule, _at(MONDAY, 10))
    auth.login_as("receptionist", clinic_a)
    start = _at(MONDAY, 10, 30)
    slot = SlotChoice(schedule.therapist_id, schedule.location_id, start).value
    response = client.post_form(
        "/c/northside/appointments/new",
        {
            "service": str(schedule.service_id),
            "slot": slot,
            "date": MONDAY.isoformat(),
            "client": "new",
            "first_name": "Nell",
            "last_name": "Newcomer",
            "email": "nell@example.com",
        },
    )
    assert response.status_code == 409
    assert "already booked at that time" in response.get_data(as_text=True)
    assert _count(app, schedule, Appointment) == 1
    assert _count(app, schedule, Client) == 1  # the client created before the clash is gone


def test_a_refused_one_click_change_keeps_nothing_it_wrote_though_it_redirects(
    app, client, auth, clinic_a, schedule, monkeypatch
):
    appointment_id = add_appointment(app, schedule, _at(MONDAY, 10))

    def write_then_refuse(appointment: Appointment) -> None:
        appointment.status = AppointmentStatus.CHECKED_IN
        appointment.note = "written before the refusal"
        db.session.flush()
        raise BookingError("Refused after a write.")

    monkeypatch.setattr(booking, "check_in", write_then_refuse)
    auth.login_as("receptionist", clinic_a)
    response = client.post_form(f"/c/northside/appointments/{appointment_id}/check-in")
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "Refused after a write." in page
    stored = _appointment(app, schedule, appointment_id)
    assert stored.status == AppointmentStatus.BOOKED
    assert stored.note != "written before the refusal"


def test_a_client_record_refused_by_the_rules_is_not_stored(app, client, auth, clinic_a, schedule):
    auth.login_as("receptionist", clinic_a)
    born = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    response = client.post_form(
        "/c/northside/clients/new",
        {"first_name": "Fay", "last_name": "Future", "date_of_birth": born},
    )
    assert response.status_code == 400
    assert _count(app, schedule, Client) == 1


# A refusal no view catches ------------------------------------------------------------------------


@pytest.fixture
def throwaway_app(database_url, outbox_dir):
    """An app with routes that write a user, then refuse; the writes must not stay."""
    app = create_app(test_config(database_url, outbox_dir))

    def refuse(refusal: Refusal, email: str):
        db.session.add(User(email=email, name="Written Before", password_hash="x"))
        db.session.flush()
        raise refusal

    @app.route("/refuse/<kind>")
    @public
    def refuse_page(kind: str):
        refusal = {"plain": Refusal, "conflict": Conflict, "gone": Gone}[kind]
        refuse(refusal(f"Refused as {kind}."), f"{kind}@refused.example")

    @app.route("/api/refuse")
    @public
    def refuse_api():
        refuse(Conflict("Taken meanwhile."), "api@refused.example")

    return app


def _users_named(app, domain: str) -> int:
    with app.app_context(), tenancy.platform_access():
        return db.session.scalar(
            select(func.count()).select_from(User).where(User.email.like(f"%@{domain}"))
        )


@pytest.mark.parametrize(("kind", "status"), [("plain", 400), ("conflict", 409), ("gone", 410)])
def test_an_uncaught_refusal_answers_its_status_with_its_message_and_rolls_back(
    throwaway_app, kind, status
):
    response = throwaway_app.test_client().get(f"/refuse/{kind}")
    assert response.status_code == status
    assert f"Refused as {kind}." in response.get_data(as_text=True)
    assert _users_named(throwaway_app, "refused.example") == 0


def test_an_uncaught_refusal_in_the_api_answers_problem_json(throwaway_app):
    response = throwaway_app.test_client().get("/api/refuse")
    assert response.status_code == 409
    assert response.get_json() == {
        "status": 409,
        "title": "That could not be done as asked",
        "detail": "Taken meanwhile.",
    }
    assert _users_named(throwaway_app, "refused.example") == 0
