from __future__ import annotations

from wtforms import EmailField, SelectChoice, SelectField
from wtforms.validators import DataRequired, Email, Length

from ...models import Role
from ..forms import BaseForm, strip

ROLE_CHOICES = [SelectChoice(role.value, role.label) for role in Role]


class InviteForm(BaseForm):
    email = EmailField(
        "Email", validators=[DataRequired(), Email(), Length(max=254)], filters=[strip]
    )
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.RECEPTIONIST.value)


class RoleForm(BaseForm):
    role = SelectField("Role", choices=ROLE_CHOICES)
