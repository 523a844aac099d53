from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField
from wtforms.validators import DataRequired, Email, Length

from ...models import Role
from ..forms import strip

ROLE_CHOICES = [SelectChoice(role.value, role.label) for role in Role]


class InviteForm(FlaskForm):
    email = EmailField(
        "Email", validators=[DataRequired(), Email(), Length(max=254)], filters=[strip]
    )
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.RECEPTIONIST.value)


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)
