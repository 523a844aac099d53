"""The intake form a client opens from an emailed link (or on a clinic device):
no account needed.

The signed token in the URL names the clinic and the link; the page shows the clinic's current
form version, and what is posted is checked against that same version. It shows the client
their first name and the details the clinic holds for them to confirm (date of birth, address,
emergency contact, GP: clients/intake_details.py); an unusable link says why without saying
whose it was.
"""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, current_app, g, render_template, request

from ... import tenancy
from ...clients import intake_details
from ...clinic_time import today_in
from ...clinical import intake
from ...clinical.templates import current_template
from ...extensions import limiter
from ...models import Client
from ...permissions import public
from ...unit_of_work import discard_changes

bp = Blueprint("intake_public", __name__)

FORM_CHANGED = "The form changed while you were filling it in: check your answers and sign again."


def _form_limit():
    return current_app.config["FORM_LIMIT_PER_ADDRESS"]


def _private(response, status: int):
    """The token is in the URL: never send it on as a referrer, never index the page."""
    response = current_app.make_response((response, status))
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _guardian_of(client: Client) -> Client | None:
    """The parent or guardian on record, who signs for a minor."""
    parent = tenancy.find(Client, client.guardian_id) if client.guardian_id else None
    return parent if parent is not None and parent.erased_at is None else None


def _form_page(
    link, client, template, answers, errors, signature, status, notice=None, details=None
):
    today = today_in(g.clinic)
    details = details or intake_details.on_record(client, g.clinic.country)
    return _private(
        render_template(
            "intake_public/form.html",
            clinic=g.clinic,
            client=client,
            link=link,
            template=template,
            sections=intake.sections(template.questions),
            answers=intake.prefill(template.questions, answers),
            errors=errors,
            signature=signature,
            is_minor=client.is_minor_on(today),
            guardian_option=intake.guardian_option(client, _guardian_of(client), today),
            notice=notice,
            details=details,
            detail_labels=intake_details.DETAILS,
            detail_field=intake_details.field_name,
            detail_limits=intake_details.MAX_LENGTHS,
            form_error=errors.get(intake.FORM_ERROR),
        ),
        status,
    )


def _problem(error: intake.IntakeLinkError):
    return _private(
        render_template("intake_public/problem.html", message=error.message, status=error.status),
        error.status,
    )


@bp.route("/intake/<token>", methods=["GET", "POST"])
@public
@limiter.limit(_form_limit, methods=["POST"])
def fill(token: str):
    """GET shows the form; POST stores the signed answers once. Error statuses (400, 409, 410)
    roll back whatever the request did (unit_of_work), so a refusal never stores anything."""
    try:
        link = intake.open_link(token)
    except intake.IntakeLinkError as error:
        discard_changes()
        return _problem(error)
    client = tenancy.find(Client, link.client_id)
    template = current_template()
    blank = intake.Signature("", False, False)
    if request.method == "GET":
        return _form_page(link, client, template, None, {}, blank, 200)

    signature = intake.read_signature(request.form)
    posted_version = request.form.get("template_version", "")
    if posted_version != str(template.version):
        # Nothing is stored: the client checks the new version's questions and signs again.
        answers, _ = intake.parse_answers(template, request.form)
        details = intake_details.read(client, request.form)
        signature = replace(signature, consent=False)
        return _form_page(
            link, client, template, answers, {}, signature, 409, FORM_CHANGED, details
        )
    answers, errors = intake.parse_answers(template, request.form)
    details = intake_details.read(client, request.form)
    errors.update(details.errors)
    if not details.errors:
        # A corrected date of birth decides who signs (a minor's parent or guardian); a refusal
        # below rolls the change back with the rest of the request.
        intake_details.confirm(client, details, actor=intake.ACTORS[link.channel])
    errors.update(
        intake.signature_errors(client, signature, today_in(g.clinic), _guardian_of(client))
    )
    if errors:
        return _form_page(link, client, template, answers, errors, signature, 400, None, details)
    try:
        intake.submit(
            link,
            template,
            answers,
            signature.name,
            signature.guardian,
            request.remote_addr,
            clinic=g.clinic,
        )
    except intake.IntakeLinkError as error:
        discard_changes()
        return _problem(error)
    except intake.IntakeError as error:
        discard_changes()
        errors = {intake.FORM_ERROR: str(error)}
        return _form_page(link, client, template, answers, errors, signature, 400, None, details)
    return _private(
        render_template("intake_public/thanks.html", clinic=g.clinic, client=client, link=link),
        200,
    )
