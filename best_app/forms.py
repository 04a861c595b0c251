"""The one place input rules live.

The admin pages render and validate these forms; the JSON API validates
request bodies with the very same classes, so a rule is never written twice.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, Regexp
from wtforms.widgets import TextInput

from best_app.extensions import db
from best_app.models import DEFAULT_ROLE, ROLES, USERNAME_PATTERN, User


# PostgreSQL's integer; a larger id cannot exist, and must not reach a query (it would overflow).
MAX_ID = 2**31 - 1


def no_nul(value):
    # PostgreSQL cannot store NUL in text and rejects any query containing one.
    # A ValueError from a filter becomes an error on the field.
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("This field must not contain NUL characters.")
    return value


def strip(value):
    value = no_nul(value)
    return value.strip() if isinstance(value, str) else value


class UserRefField(Field):
    """A reference to a user, given as an id or a username; `data` is the id.

    The admin pages accept a typed username so that they work without
    JavaScript; the API sends integer ids.
    """

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.user: User | None = None

    def process_formdata(self, valuelist):
        self.raw_value = valuelist[0] if valuelist else None
        self.data = None
        if self.raw_value in (None, ""):
            return
        value = self.raw_value
        if isinstance(value, bool):
            raise ValueError("Give a user id or username.")
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("Give a user id or username.")
        if isinstance(value, int):
            self.user = db.session.get(User, value) if 0 < value <= MAX_ID else None
        elif isinstance(value, str):
            text = value.strip()
            # A username wins over an id: "2024" may be somebody's username.
            self.user = db.session.scalar(db.select(User).where(User.username == text))
            if self.user is None and text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID:
                self.user = db.session.get(User, int(text))
        else:
            raise ValueError("Give a user id or username.")
        if self.user is None:
            raise ValueError(f"No user with id or username {str(value).strip()!r}.")
        self.data = self.user.id

    def process_data(self, value):
        self.data = value
        self.user = db.session.get(User, value) if value else None

    def _value(self):
        if self.user is not None:
            return self.user.username
        raw = getattr(self, "raw_value", None)
        return "" if raw is None else str(raw)


class VersionedForm(FlaskForm):
    # The row version the client last saw; a stale one means someone else saved first.
    version = HiddenField()


class UserForm(VersionedForm):
    username = StringField(
        "Username",
        filters=[strip],
        validators=[
            DataRequired(),
            Length(min=3, max=64),
            Regexp(USERNAME_PATTERN, message="Use only letters, digits, '_', '.' and '-'."),
        ],
    )
    email = StringField(
        "Email", filters=[strip], validators=[DataRequired(), Length(max=254), Email(check_deliverability=False)]
    )
    name = StringField("Full name", filters=[strip], validators=[Optional(), Length(max=120)])
    role = SelectField("Role", choices=[SelectChoice(r, r.capitalize()) for r in ROLES], default=DEFAULT_ROLE)
    is_admin = BooleanField("Administrator")
    password = PasswordField(
        "Password",
        validators=[Optional(), Length(min=8, max=256)],
        description="Leave empty to keep the current password.",
    )


class CarForm(VersionedForm):
    model = StringField("Model", filters=[strip], validators=[DataRequired(), Length(min=1, max=100)])
    owner_id = UserRefField("Owner", validators=[InputRequired(message="Choose the car's owner.")])


class TaskForm(VersionedForm):
    title = StringField("Title", filters=[strip], validators=[DataRequired(), Length(min=1, max=200)])
    description = TextAreaField("Description", filters=[no_nul], validators=[Optional(), Length(max=10_000)])
    done = BooleanField("Done")
    assignee_id = UserRefField("Assignee", validators=[Optional()])


class LoginForm(FlaskForm):
    login = StringField("Username or email", filters=[strip], validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


class TokenForm(FlaskForm):
    user_id = UserRefField("User", validators=[InputRequired(message="Choose whose token this is.")])
    name = StringField("Name", filters=[strip], validators=[Optional(), Length(max=100)])


def version_mismatch(form: VersionedForm, current_version: int) -> bool:
    """Whether the form was filled in from an older version of the row."""
    sent = (form.version.data or "").strip() if isinstance(form.version.data, str) else form.version.data
    if sent in (None, ""):
        return False
    try:
        return int(sent) != current_version
    except (TypeError, ValueError):
        return True  # not a version we ever issued: treat it as stale
