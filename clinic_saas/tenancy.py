"""THE tenant mechanism: which clinic a request acts for, and keeping the ORM inside it.

Every URL rule with a `clinic_slug` argument acts for one clinic: the back office under
/c/<clinic_slug>/ and the JSON API under /api/v1/c/<clinic_slug>/ alike. Before any view runs, the
slug is resolved to a clinic of which the logged-in user is an active member, or the request ends
in 404 (never 403: we do not reveal that a clinic exists). The clinic is then bound for the
request (`current_clinic()`), and:

- every ORM SELECT, bulk UPDATE and bulk DELETE touching a TenantScoped model gets
  `clinic_id = <bound clinic>` added (including joins, relationship loads and aliases);
- with no clinic bound, such a statement raises TenantScopeError instead of reading every clinic;
- new TenantScoped rows get the bound clinic_id, and a row of another clinic is refused at flush.

Platform work that must cross clinics (the CLI, resolving an invitation link or a webhook to its
clinic, the operator's overview) opts out with `platform_access()`: keep those few and greppable.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, abort, current_app, g, has_app_context, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import event, select
from sqlalchemy.orm import Session, with_loader_criteria
from sqlalchemy.sql.util import find_tables

from .extensions import db
from .models import Clinic, Membership, TenantScoped

# Bound to no clinic at all: a fail-closed criterion for statements we could not otherwise check.
_NO_CLINIC = uuid.UUID(int=0)


class TenantScopeError(RuntimeError):
    """A clinic-owned table was read or written with no clinic bound, or across clinics."""


def bound_clinic_id() -> uuid.UUID | None:
    if not has_app_context():
        return None
    return g.get("tenant_clinic_id")


def _platform_access_active() -> bool:
    return has_app_context() and g.get("tenant_platform_access", 0) > 0


def current_clinic() -> Clinic:
    """The clinic this request or command acts for; raises when none is bound."""
    clinic = g.get("clinic") if has_app_context() else None
    if clinic is None:
        raise TenantScopeError("no clinic is bound here")
    return clinic


def bind(clinic: Clinic, membership: Membership | None = None) -> None:
    """Bind the current app context (a request, a CLI command) to one clinic."""
    bound = bound_clinic_id()
    if bound is not None and bound != clinic.id:
        raise TenantScopeError("a different clinic is already bound in this context")
    g.tenant_clinic_id = clinic.id
    g.clinic = clinic
    g.membership = membership


def unbind() -> None:
    for name in ("tenant_clinic_id", "clinic", "membership"):
        g.pop(name, None)


@contextmanager
def bound_to(clinic: Clinic) -> Iterator[Clinic]:
    """Act for one clinic inside a block (CLI commands, tests), then restore what was bound."""
    saved = {name: g.get(name) for name in ("tenant_clinic_id", "clinic", "membership")}
    unbind()
    bind(clinic)
    try:
        yield clinic
    finally:
        unbind()
        for name, value in saved.items():
            if value is not None:
                setattr(g, name, value)


@contextmanager
def platform_access() -> Iterator[None]:
    """Opt out of tenant scoping for platform work that spans clinics. Use sparingly."""
    g.tenant_platform_access = g.get("tenant_platform_access", 0) + 1
    try:
        yield
    finally:
        g.tenant_platform_access -= 1


def parse_id(value) -> uuid.UUID | None:
    """An id from a URL or a form, or None when it is not one."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def find(model, value, *options):
    """The bound clinic's row of `model` with this id, or None: never another clinic's row."""
    key = parse_id(value)
    if key is None:
        return None
    return db.session.scalar(select(model).options(*options).where(model.id == key))


def get_or_404(model, value, *options):
    """As find(), for views: a malformed id, another clinic's id and a missing row all give 404."""
    row = find(model, value, *options)
    if row is None:
        abort(404)
    return row


def _tenant_table_names() -> frozenset[str]:
    names = getattr(_tenant_table_names, "cache", None)
    if names is None:
        names = frozenset(m.local_table.name for m in _tenant_mappers())
        _tenant_table_names.cache = names
    return names


def _tenant_mappers():
    return [m for m in db.Model.registry.mappers if issubclass(m.class_, TenantScoped)]


def _touches_tenant_tables(statement) -> bool:
    tables = find_tables(statement, include_joins=True, include_aliases=True)
    names = _tenant_table_names()
    return any(getattr(t, "name", None) in names for t in tables)


@event.listens_for(Session, "do_orm_execute")
def _scope_orm_execute(state) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if _platform_access_active():
        return
    clinic_id = bound_clinic_id()
    if clinic_id is None:
        touches = any(issubclass(m.class_, TenantScoped) for m in state.all_mappers)
        if touches or _touches_tenant_tables(state.statement):
            raise TenantScopeError(
                "query on a clinic-owned table with no clinic bound; "
                "bind a clinic or use tenancy.platform_access() for platform work"
            )
        clinic_id = _NO_CLINIC  # belt and braces: anything undetected above matches nothing
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantScoped,
            lambda cls: cls.clinic_id == clinic_id,
            include_aliases=True,
            track_closure_variables=False,
        )
    )


@event.listens_for(Session, "before_flush")
def _stamp_and_check_rows(session, flush_context, instances) -> None:
    if _platform_access_active():
        return
    clinic_id = bound_clinic_id()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if not isinstance(obj, TenantScoped):
            continue
        if clinic_id is None:
            raise TenantScopeError(f"{type(obj).__name__} written with no clinic bound")
        if obj.clinic_id is None and obj in session.new:
            obj.clinic_id = clinic_id
        if obj.clinic_id != clinic_id:
            raise TenantScopeError(f"{type(obj).__name__} of another clinic refused at flush")


def _resolve_clinic(endpoint: str | None, values: dict | None) -> None:
    """url_value_preprocessor: turn /c/<clinic_slug>/ into a bound clinic, or 404."""
    if not values or "clinic_slug" not in values:
        return
    slug = values.pop("clinic_slug")
    if not current_user.is_authenticated:
        # The login page sends people back here; whether the clinic exists is not revealed.
        g.tenant_needs_login = True
        return
    with platform_access():
        row = db.session.execute(
            select(Clinic, Membership)
            .join(Membership, Membership.clinic_id == Clinic.id)
            .where(
                Clinic.slug == slug,
                Clinic.active.is_(True),
                Membership.user_id == current_user.id,
                Membership.active.is_(True),
            )
        ).first()
    if row is None:
        abort(404)
    bind(row.Clinic, row.Membership)


def _require_login_for_clinic_urls():
    if g.pop("tenant_needs_login", False):
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return None


def _inject_clinic_slug(endpoint: str, values: dict) -> None:
    """url_defaults: url_for() inside a clinic fills in its slug, so templates need not."""
    clinic = g.get("clinic")
    if clinic is None or "clinic_slug" in values:
        return
    if endpoint in _clinic_endpoints():
        values["clinic_slug"] = clinic.slug


def _clinic_endpoints() -> frozenset[str]:
    state = current_app.extensions.setdefault("tenancy", {})
    if "endpoints" not in state:
        state["endpoints"] = frozenset(
            rule.endpoint for rule in current_app.url_map.iter_rules() if is_clinic_rule(rule)
        )
    return state["endpoints"]


def is_clinic_rule(rule) -> bool:
    """A URL rule that acts for one clinic: it takes the clinic's slug, wherever in the path."""
    return "clinic_slug" in rule.arguments


def init_app(app: Flask) -> None:
    app.url_value_preprocessor(_resolve_clinic)
    app.before_request(_require_login_for_clinic_urls)
    app.url_defaults(_inject_clinic_slug)
