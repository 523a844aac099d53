from __future__ import annotations

from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from ...accounts.passwords import MAX_LENGTH, MIN_LENGTH, password_problem
from ..forms import BaseForm, ClinicDetailsForm, strip


class LoginForm(BaseForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)], filters=[strip])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_LENGTH)])


class NewPasswordMixin:
    def validate_password(self, field) -> None:
        email_field = getattr(self, "email", None)
        email = email_field.data if email_field else getattr(self, "account_email", "")
        problem = password_problem(field.data or "", email or "")
        if problem:
            raise ValidationError(problem)


PASSWORD_HELP = f"At least {MIN_LENGTH} characters. A short phrase is easy to remember."


class SignupForm(NewPasswordMixin, ClinicDetailsForm):
    name = StringField("Your name", validators=[Length(min=2, max=120)], filters=[strip])
    email = EmailField(
        "Your email", validators=[DataRequired(), Email(), Length(max=254)], filters=[strip]
    )
    password = PasswordField("Password", validators=[DataRequired()], description=PASSWORD_HELP)


class ForgotPasswordForm(BaseForm):
    email = EmailField(
        "Email", validators=[DataRequired(), Email(), Length(max=254)], filters=[strip]
    )


class ResetPasswordForm(NewPasswordMixin, BaseForm):
    password = PasswordField("New password", validators=[DataRequired()], description=PASSWORD_HELP)
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")],
    )
