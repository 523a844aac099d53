from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from ...accounts.passwords import MAX_LENGTH
from ..auth.forms import ResetPasswordForm


class ChangePasswordForm(ResetPasswordForm, FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=MAX_LENGTH)])
