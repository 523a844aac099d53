"""The menu's categories: added, renamed, ordered, removed when no service uses them."""

from __future__ import annotations

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    url_for,
)
from sqlalchemy import func, select

from ...extensions import db
from ...menu import services as menu
from ...menu.services import MenuError
from ...models import (
    Category,
    Service,
)
from ...permissions import requires
from ...tenancy import get_or_404
from ...unit_of_work import discard_changes
from ..forms import OneClickForm
from ..refusal_views import one_click, place_refusal
from .forms import (
    MoveForm,
    NameForm,
)
from .routes import _status, bp


def _render_categories(add_form=None, failed=None, problem=None):
    """The categories page; `failed` is (category id, rename form with its errors)."""
    categories = menu.ordered_categories()
    in_use = dict(
        db.session.execute(select(Service.category, func.count()).group_by(Service.category)).all()
    )
    rename_forms = {c.id: NameForm(formdata=None, name=c.name) for c in categories}
    if failed is not None:
        rename_forms[failed[0]] = failed[1]
    add_form = add_form or NameForm(formdata=None)
    status = 400 if problem else _status(add_form, failed[1] if failed else None)
    return render_template(
        "menu/categories.html",
        categories=categories,
        in_use=in_use,
        rename_forms=rename_forms,
        add_form=add_form,
        problem=problem,
    ), status


@bp.route("/categories", methods=["GET", "POST"])
@requires("menu.manage")
def categories():
    form = NameForm()
    if form.validate_on_submit():
        try:
            category = menu.add_category(form.name.data)
        except MenuError as error:
            place_refusal(form, error)
        else:
            flash(f"{category.name} was added to the menu's categories.", "success")
            return redirect(url_for("menu.categories"))
    return _render_categories(add_form=form)


@bp.route("/categories/<category_id>", methods=["POST"])
@requires("menu.manage")
def rename_category(category_id: str):
    category = get_or_404(Category, category_id)
    form = NameForm()
    if form.validate_on_submit():
        try:
            menu.rename_category(category, form.name.data)
        except MenuError as error:
            place_refusal(form, error)
        else:
            flash(f"The category is now called {category.name}.", "success")
            return redirect(url_for("menu.categories"))
    db.session.expire(category)  # the page shows the name it still has
    return _render_categories(failed=(category.id, form))


@bp.route("/categories/<category_id>/move", methods=["POST"])
@requires("menu.manage")
def move_category(category_id: str):
    category = get_or_404(Category, category_id)
    form = MoveForm()

    def move() -> None:
        menu.move_category(category, form.direction.data)

    return one_click(move, url_for("menu.categories"), form=form)


@bp.route("/categories/<category_id>/delete", methods=["POST"])
@requires("menu.manage")
def delete_category(category_id: str):
    category = get_or_404(Category, category_id)
    if not OneClickForm().validate_on_submit():
        abort(400)
    name = category.name
    try:
        menu.delete_category(category)
    except MenuError as error:
        discard_changes()
        return _render_categories(problem=str(error))
    flash(f"{name} was removed from the categories.", "success")
    return redirect(url_for("menu.categories"))
