"""The owner's audit log: every read and export of a clinical record, filtered, never edited."""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from clinic_saas import tenancy
from clinic_saas.clients import merge_clients
from clinic_saas.extensions import db
from clinic_saas.models import (
    ERASED_NAME,
    AppendOnlyError,
    AuditEvent,
    Client,
    Clinic,
    Membership,
    Role,
)

from .factories import build_schedule

AUDIT = "/c/northside/audit"


def _member_user_id(app, clinic_fixture, role):
    with app.app_context(), tenancy.platform_access():
        membership = db.session.scalars(
            select(Membership).where(Membership.id == clinic_fixture.member_ids[role])
        ).one()
        return membership.user_id


def _add_clients(app, clinic_fixture, names) -> dict[str, uuid.UUID]:
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_fixture.clinic_id)
        with tenancy.bound_to(clinic):
            rows = {}
            for name in names:
                first, last = name.split()
                rows[name] = Client(
                    first_name=first, last_name=last, email=f"{first.lower()}@example.com"
                )
            db.session.add_all(rows.values())
            db.session.commit()
            return {name: row.id for name, row in rows.items()}


def _add_events(app, clinic_fixture, specs) -> None:
    """specs: (at, action, client_id, role or None)."""
    users = {role: _member_user_id(app, clinic_fixture, role) for role in Role}
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_fixture.clinic_id)
        with tenancy.bound_to(clinic):
            for at, action, client_id, role in specs:
                db.session.add(
                    AuditEvent(
                        at=at,
                        action=action,
                        client_id=client_id,
                        user_id=users[role] if role else None,
                        actor=f"{role.label} of {clinic.name} ({role.value})"
                        if role
                        else "Client (intake link)",
                        subject_type="intake" if action.startswith("intake") else "note",
                        ip_address="203.0.113.7",
                        detail={},
                    )
                )
            db.session.commit()


def _rows(page) -> list[dict[str, str]]:
    """The events of the page, as {"action", "client"} per row, top to bottom."""
    text = page.get_data(as_text=True)
    rows = []
    for row in re.findall(r'<tr data-testid="audit-event">(.*?)</tr>', text, re.S):
        cells = {}
        for name in ("action", "client"):
            match = re.search(rf'data-testid="audit-{name}">(.*?)</td>', row, re.S)
            cells[name] = html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()
        rows.append(cells)
    return rows


@pytest.fixture
def log(app, clinic_a):
    """Three clients and events over two days; the IDs by name."""
    ids = _add_clients(app, clinic_a, ["Ada Runner", "Ben Cyclist", "Cara Swimmer"])
    base = datetime(2031, 3, 2, 9, tzinfo=UTC)
    _add_events(
        app,
        clinic_a,
        [
            (base, "intake.view", ids["Ada Runner"], Role.THERAPIST),
            (base + timedelta(hours=1), "note.view", ids["Ben Cyclist"], Role.MANAGER),
            (base + timedelta(hours=2), "client.export", ids["Ada Runner"], Role.OWNER),
            (base + timedelta(days=1), "intake.submit", ids["Cara Swimmer"], None),
            (base + timedelta(days=1, hours=1), "note.sign", ids["Ada Runner"], Role.THERAPIST),
        ],
    )
    return ids


def test_owner_sees_the_log_newest_first(app, client, auth, clinic_a, log):
    auth.login_as(Role.OWNER, clinic_a)
    page = client.get(AUDIT)
    assert page.status_code == 200
    assert _rows(page) == [
        {"action": "Signed a treatment note", "client": "Ada Runner"},
        {"action": "Submitted an intake", "client": "Cara Swimmer"},
        {"action": "Exported a client's record", "client": "Ada Runner"},
        {"action": "Viewed a treatment note", "client": "Ben Cyclist"},
        {"action": "Viewed an intake", "client": "Ada Runner"},
    ]
    text = page.get_data(as_text=True)
    assert "Mon 3 Mar 2031, 10:00" in text  # 10:00 UTC is 10:00 in London in March
    assert "Therapist of Northside Sports Massage (therapist)" in text
    assert "Client (intake link)" in text
    assert "203.0.113.7" in text


def test_the_log_filters_by_client_action_staff_and_dates(app, client, auth, clinic_a, log):
    auth.login_as(Role.OWNER, clinic_a)

    by_name = client.get(AUDIT, query_string={"client": "ada run"})
    assert by_name.status_code == 200
    assert {r["client"] for r in _rows(by_name)} == {"Ada Runner"}
    assert len(_rows(by_name)) == 3

    by_id = client.get(AUDIT, query_string={"client_id": str(log["Ben Cyclist"])})
    assert _rows(by_id) == [{"action": "Viewed a treatment note", "client": "Ben Cyclist"}]
    assert 'data-testid="chosen-client">Ben Cyclist<' in by_id.get_data(as_text=True)

    nobody = client.get(AUDIT, query_string={"client": "Zebedee"})
    assert _rows(nobody) == []
    assert "No client matches" in html.unescape(nobody.get_data(as_text=True))

    by_action = client.get(AUDIT, query_string={"action": "intake.view"})
    assert _rows(by_action) == [{"action": "Viewed an intake", "client": "Ada Runner"}]

    therapist = _member_user_id(app, clinic_a, Role.THERAPIST)
    by_staff = client.get(AUDIT, query_string={"user": str(therapist)})
    assert [r["action"] for r in _rows(by_staff)] == [
        "Signed a treatment note",
        "Viewed an intake",
    ]

    by_day = client.get(AUDIT, query_string={"date_from": "2031-03-03", "date_to": "2031-03-03"})
    assert [r["action"] for r in _rows(by_day)] == [
        "Signed a treatment note",
        "Submitted an intake",
    ]
    combined = client.get(
        AUDIT,
        query_string={"client": "Ada", "action": "client.export", "date_to": "2031-03-02"},
    )
    assert _rows(combined) == [{"action": "Exported a client's record", "client": "Ada Runner"}]


def test_date_filters_use_the_clinics_own_calendar(app, client, auth, clinic_a):
    ids = _add_clients(app, clinic_a, ["Ada Runner"])
    # 23:30 UTC on 1 July is 00:30 on 2 July in London (summer time).
    _add_events(
        app,
        clinic_a,
        [
            (datetime(2031, 7, 1, 22, 30, tzinfo=UTC), "intake.view", ids["Ada Runner"], None),
            (datetime(2031, 7, 1, 23, 30, tzinfo=UTC), "note.view", ids["Ada Runner"], None),
        ],
    )
    auth.login_as(Role.OWNER, clinic_a)
    page = client.get(AUDIT, query_string={"date_from": "2031-07-02", "date_to": "2031-07-02"})
    assert [r["action"] for r in _rows(page)] == ["Viewed a treatment note"]
    assert "Wed 2 Jul 2031, 00:30" in page.get_data(as_text=True)


def test_a_backwards_date_range_is_a_clear_400(app, client, auth, clinic_a, log):
    auth.login_as(Role.OWNER, clinic_a)
    page = client.get(AUDIT, query_string={"date_from": "2031-03-05", "date_to": "2031-03-01"})
    assert page.status_code == 400
    assert "The end of the range is before its start." in page.get_data(as_text=True)
    broken = client.get(AUDIT, query_string={"client_id": "not-an-id"})
    assert broken.status_code == 400


def test_erased_and_merged_clients_are_named_as_such(app, client, auth, clinic_a):
    ids = _add_clients(app, clinic_a, ["Ada Runner"])
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        with tenancy.bound_to(clinic):
            ada = db.session.get(Client, (clinic.id, ids["Ada Runner"]))
            ada.first_name, ada.last_name = "Erased", "client"
            ada.erased_at = datetime(2031, 3, 1, tzinfo=UTC)
            db.session.commit()
    gone = uuid.uuid4()  # a client folded into another record: the row no longer exists
    at = datetime(2031, 3, 2, 9, tzinfo=UTC)
    _add_events(
        app,
        clinic_a,
        [
            (at, "intake.view", ids["Ada Runner"], Role.OWNER),
            (at + timedelta(minutes=1), "note.view", gone, Role.OWNER),
        ],
    )
    auth.login_as(Role.OWNER, clinic_a)
    assert [r["client"] for r in _rows(client.get(AUDIT))] == ["Merged client", ERASED_NAME]


@pytest.mark.parametrize("role", [Role.MANAGER, Role.RECEPTIONIST, Role.THERAPIST])
def test_only_the_owner_may_read_the_audit_log(app, client, auth, clinic_a, log, role):
    auth.login_as(role, clinic_a)
    page = client.get(AUDIT)
    assert page.status_code == 403
    assert b"Ada Runner" not in page.data


def test_settings_link_to_the_audit_log(app, client, auth, clinic_a):
    auth.login_as(Role.OWNER, clinic_a)
    page = client.get("/c/northside/settings/").get_data(as_text=True)
    assert f'href="{AUDIT}"' in page


def test_the_log_pages_by_50_with_a_constant_number_of_queries(
    app, client, auth, clinic_a, count_queries
):
    names = [f"Client{n:03d} Runner" for n in range(60)]
    ids = _add_clients(app, clinic_a, names)
    start = datetime(2031, 1, 1, tzinfo=UTC)
    _add_events(
        app,
        clinic_a,
        [
            (start + timedelta(minutes=n), "intake.view", ids[name], None)
            for n, name in enumerate(names[:3])
        ],
    )
    auth.login_as(Role.OWNER, clinic_a)
    few, page = count_queries(lambda: client.get(AUDIT))
    assert len(_rows(page)) == 3

    _add_events(
        app,
        clinic_a,
        [
            (start + timedelta(hours=1, minutes=n), "note.view", ids[name], Role.THERAPIST)
            for n, name in enumerate(names)
        ],
    )
    many, page = count_queries(lambda: client.get(AUDIT))
    assert many == few
    rows = _rows(page)
    assert len(rows) == 50
    assert rows[0]["client"] == "Client059 Runner"

    older = re.search(r'href="([^"]+)" data-testid="older-events"', page.get_data(as_text=True))
    assert older, "no link to older events"
    second = client.get(html.unescape(older.group(1)))
    rows = _rows(second)
    assert len(rows) == 13  # 10 note views and the 3 intake views, oldest last
    assert rows[0]["client"] == "Client009 Runner"
    assert rows[-1] == {"action": "Viewed an intake", "client": "Client000 Runner"}
    assert 'data-testid="older-events"' not in second.get_data(as_text=True)


def test_audit_events_cannot_be_changed(app, clinic_a, log):
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        with tenancy.bound_to(clinic):
            event = db.session.scalars(select(AuditEvent).limit(1)).one()
            event.actor = "Someone else"
            with pytest.raises(AppendOnlyError):
                db.session.flush()
            db.session.rollback()
        if db.engine.dialect.name == "postgresql":
            # Whoever connects, and however: the database's own trigger refuses the UPDATE.
            from sqlalchemy.exc import DBAPIError

            with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
                conn.execute(update(AuditEvent.__table__).values(actor="Someone else"))
    # Nor does the application offer a way: every audit route only reads.
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("audit."):
            assert rule.methods - {"HEAD", "OPTIONS"} == {"GET"}, rule.endpoint


def test_reading_and_exporting_write_to_the_log(app, client, auth, clinic_a):
    schedule = build_schedule(app, clinic_a)
    auth.login_as(Role.MANAGER, clinic_a)
    assert client.get(f"/c/northside/clients/{schedule.client_id}/export").status_code == 200
    auth.logout()
    auth.login_as(Role.OWNER, clinic_a)
    rows = _rows(client.get(AUDIT, query_string={"action": "client.export"}))
    assert rows == [{"action": "Exported a client's record", "client": "Ada Runner"}]
    page = client.get(AUDIT).get_data(as_text=True)
    assert "Manager of Northside Sports Massage (manager)" in page
    assert "format: html" in page


def test_a_merged_away_clients_events_show_under_the_survivors_filter(app, client, auth, clinic_a):
    ids = _add_clients(app, clinic_a, ["Ada Runner", "Ada Duplicate", "Ada Third", "Ben Cyclist"])
    at = datetime(2025, 3, 2, 9, tzinfo=UTC)  # before the merges
    _add_events(
        app,
        clinic_a,
        [
            (at, "intake.view", ids["Ada Runner"], Role.OWNER),
            (at + timedelta(minutes=1), "note.view", ids["Ada Duplicate"], Role.OWNER),
            (at + timedelta(minutes=2), "client.export", ids["Ada Third"], Role.OWNER),
            (at + timedelta(minutes=3), "note.view", ids["Ben Cyclist"], Role.OWNER),
        ],
    )
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        with tenancy.bound_to(clinic):

            def get(name):
                return db.session.get(Client, (clinic.id, ids[name]))

            # A chain: the third record into the duplicate, then the duplicate into Ada.
            merge_clients(get("Ada Duplicate"), get("Ada Third"))
            merge_clients(get("Ada Runner"), get("Ada Duplicate"))
            db.session.commit()
    auth.login_as(Role.OWNER, clinic_a)
    page = client.get(AUDIT, query_string={"client_id": str(ids["Ada Runner"])})
    assert page.status_code == 200
    assert [r["action"] for r in _rows(page)] == [
        "Merged duplicate clients",
        "Merged duplicate clients",
        "Exported a client's record",
        "Viewed a treatment note",
        "Viewed an intake",
    ]
    by_name = client.get(AUDIT, query_string={"client": "ada run"})
    assert len(_rows(by_name)) == 5
    ben = client.get(AUDIT, query_string={"client_id": str(ids["Ben Cyclist"])})
    assert [r["action"] for r in _rows(ben)] == ["Viewed a treatment note"]
