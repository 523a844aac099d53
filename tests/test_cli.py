"""Command-line tasks: the demo data and platform operators."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from clinic_saas import tenancy
from clinic_saas.cli import DEMO_CLINICS, DEMO_PASSWORD
from clinic_saas.extensions import db
from clinic_saas.models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    Location,
    Membership,
    Shift,
    Therapist,
    User,
)
from clinic_saas.models.base import utcnow


def _counts(app):
    with app.app_context(), tenancy.platform_access():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Clinic, User, Membership)
        )


def test_seed_demo_is_safe_to_run_twice(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    counts = _counts(app)
    assert counts == (2, 4, 4)
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert _counts(app) == counts


def test_the_demo_clinic_has_a_team_a_roster_and_two_weeks_of_bookings(app):
    app.test_cli_runner().invoke(args=["seed-demo"])
    with app.app_context():
        northside = db.session.scalar(select(Clinic).where(Clinic.slug == "northside"))
        with tenancy.bound_to(northside):
            count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
            assert count(Therapist) == 4
            assert count(Location) == 2
            assert count(Shift) >= 15
            days = {
                a.starts_at.astimezone(northside.tz).date()
                for a in db.session.scalars(select(Appointment))
            }
            statuses = set(db.session.scalars(select(Appointment.status)))
            linked = db.session.scalar(
                select(Therapist).where(Therapist.membership_id.is_not(None))
            )
    assert max(days) - min(days) >= timedelta(days=12)
    assert {AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED} <= statuses
    assert linked.display_name == "Tom Turner"


def test_every_demo_login_reaches_its_clinic(app, auth, client):
    app.test_cli_runner().invoke(args=["seed-demo"])
    for spec in DEMO_CLINICS:
        for email, _, role in spec["staff"]:
            assert auth.login(email, DEMO_PASSWORD).status_code == 302, email
            home = client.get(f"/c/{spec['slug']}/")
            assert home.status_code == 200
            assert spec["name"].encode() in home.data
            assert role.value.encode() in home.data
            auth.logout()


def test_create_admin_makes_a_platform_operator(app, client, auth):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-admin", "ops@platform.example", "--password", "operator-password-1"]
    )
    assert result.exit_code == 0, result.output
    auth.login("ops@platform.example", "operator-password-1")
    assert client.get("/admin/").status_code == 200


def test_create_admin_refuses_a_weak_password(app):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "ops@platform.example", "--password", "short"]
    )
    assert result.exit_code != 0
    assert "at least 10 characters" in result.output


def test_only_platform_operators_see_the_platform_overview(client, auth, clinic_a):
    auth.login_as("owner", clinic_a)
    assert client.get("/admin/").status_code == 404


def test_the_demo_clinic_has_client_records_with_intakes_flags_and_signed_notes(app):
    from clinic_saas.clinical import status
    from clinic_saas.models import Client, IntakeResponse, NoteStatus, TreatmentNote

    app.test_cli_runner().invoke(args=["seed-demo"])
    with app.app_context():
        northside = db.session.scalar(select(Clinic).where(Clinic.slug == "northside"))
        with tenancy.bound_to(northside):
            levels = {
                (flag["level"], flag["site"])
                for response in db.session.scalars(select(IntakeResponse))
                for flag in response.flags
            }
            child = db.session.scalar(select(Client).where(Client.guardian_id.is_not(None)))
            notes = list(db.session.scalars(select(TreatmentNote)))
            upcoming = db.session.scalars(
                select(Appointment.client_id)
                .join(Therapist, Therapist.id == Appointment.therapist_id)
                .where(
                    Appointment.status == AppointmentStatus.BOOKED,
                    Therapist.membership_id.is_not(None),
                )
            ).all()
            flagged_upcoming = [
                s for s in status.summaries(upcoming, clinic=northside).values() if s.has_flags
            ]
            all_ids = db.session.scalars(select(Client.id)).all()
            states = {s.state for s in status.summaries(all_ids, clinic=northside).values()}
    assert ("absolute", "right ankle") in levels
    assert ("local", "left calf") in levels
    assert child is not None and child.is_minor_on(child.created_at.date())
    assert notes and all(n.status == NoteStatus.SIGNED for n in notes)
    assert all(n.content["techniques"] and n.content["pain_before"] is not None for n in notes)
    assert len(flagged_upcoming) >= 2  # Tom Turner's next clients carry the two red flags
    assert {s.value for s in states} == {"missing", "outdated", "current"}


def _clinic_counts(app, slug: str) -> dict:
    from clinic_saas.models import Client, PackageSale, Service

    with app.app_context():
        clinic = db.session.scalar(select(Clinic).where(Clinic.slug == slug))
        with tenancy.bound_to(clinic):
            return {
                model.__name__: db.session.scalar(select(func.count()).select_from(model))
                for model in (Client, Appointment, Service, Therapist, PackageSale)
            }


def test_seed_demo_reset_starts_the_demo_afresh_and_leaves_other_clinics_alone(app):
    from clinic_saas.models import Client

    from .conftest import make_clinic

    other = make_clinic(app, "elsewhere", "Elsewhere Physio")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    fresh = _clinic_counts(app, "northside")
    with app.app_context():
        for slug in ("northside", "elsewhere"):
            clinic = db.session.scalar(select(Clinic).where(Clinic.slug == slug))
            with tenancy.bound_to(clinic):
                db.session.add(Client(first_name="Zed", last_name="Added", email="z@example.com"))
                booked = db.session.scalar(
                    select(Appointment).where(Appointment.status == AppointmentStatus.BOOKED)
                )
                if booked is not None:
                    booked.status = AppointmentStatus.CANCELLED
                db.session.commit()
    users = _counts(app)[1]

    result = runner.invoke(args=["seed-demo", "--reset"])
    assert result.exit_code == 0, result.output
    assert "Removed the demo clinics and everything in them." in result.output
    assert _clinic_counts(app, "northside") == fresh  # as first seeded: the added client is gone
    assert _clinic_counts(app, "elsewhere")["Client"] == 1  # another clinic keeps its data
    assert _counts(app)[1] == users  # logins stay
    with app.app_context(), tenancy.platform_access():
        assert db.session.scalar(select(Clinic.name).where(Clinic.slug == "elsewhere")) == (
            other.name
        )


def test_the_demo_clinics_are_each_one_coherent_place_with_the_four_kinds_of_work(app):
    from clinic_saas.models import Client, Service

    app.test_cli_runner().invoke(args=["seed-demo"])
    expected = {"northside": ("GBP", "+44", "Manchester"), "harbour": ("EUR", "+353", "Dublin")}
    with app.app_context():
        for slug, (currency, dialling, city) in expected.items():
            clinic = db.session.scalar(select(Clinic).where(Clinic.slug == slug))
            assert clinic.currency == currency
            assert (city in clinic.address and city in clinic.phone) or clinic.phone.startswith(
                dialling.replace("+", "+")
            )
            with tenancy.bound_to(clinic):
                sites = db.session.scalars(select(Location.address)).all()
                assert sites and all(city in address for address in sites), sites
                clients = db.session.scalars(select(Client)).all()
                phones = [c.phone for c in clients if c.phone]
                assert phones and all(p.startswith(dialling) for p in phones), phones
                assert all(c.address and c.gp_practice for c in clients if c.guardian_id is None)
                categories = set(db.session.scalars(select(Service.category)))
                assert categories == {"pre_event", "post_event", "rehab", "maintenance"}
                joined = [c.created_at for c in clients]
                # Clients joined before the fortnight of bookings, not all on the day of seeding.
                assert max(joined) < utcnow() - timedelta(days=7)


def test_the_demo_has_invoices_paid_part_paid_unpaid_overdue_and_one_to_a_club(app):
    from clinic_saas.billing import balances
    from clinic_saas.models import Invoice, InvoiceStatus, PayerKind

    app.test_cli_runner().invoke(args=["seed-demo"])
    with app.app_context():
        northside = db.session.scalar(select(Clinic).where(Clinic.slug == "northside"))
        with tenancy.bound_to(northside):
            rows = db.session.scalars(select(Invoice)).all()
            statuses = {invoice.status for invoice in rows}
            today = utcnow().date()
            overdue = [
                i
                for i in rows
                if i.due_on is not None and i.due_on < today and balances.of(i).due > 0
            ]
            club = [i for i in rows if i.payer_kind == PayerKind.ORGANISATION]
            numbers = sorted(i.number for i in rows if i.number)
    assert {
        InvoiceStatus.DRAFT,
        InvoiceStatus.ISSUED,
        InvoiceStatus.PART_PAID,
        InvoiceStatus.PAID,
    } <= statuses
    assert overdue and club and club[0] in overdue
    assert numbers[0].startswith("NS-") and len(set(numbers)) == len(numbers)
