"""The one place input rules live.

The admin pages render and validate these forms; the JSON API validates
request bodies with the very same classes, so a rule is never written twice.
Every form derives from `Form`, which holds the rules that apply to every
field: input must be text (a file part is refused on the field), and text
may not carry control characters (only a multi-line field keeps tab and
line breaks).
"""
from __future__ import annotations

import re

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import BooleanField, Field, HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, Optional, Regexp, StopValidation
from wtforms.widgets import TextInput

from best_app.extensions import db
from best_app.models.base import MAX_ID
from best_app.models import DEFAULT_ROLE, ROLES, USERNAME_PATTERN, User


# The C0 controls and DEL. PostgreSQL cannot store NUL at all; the others are
# invisible, break the pages and logs that show the text, and no one types them.
CONTROL_CHARACTERS = frozenset(map(chr, [*range(0x20), 0x7F]))
# What `str.strip()` removes: the exact set, so that the OpenAPI patterns built
# from it describe the trimmed value whatever regex dialect reads them. (U+3000
# is the last whitespace character in Unicode.)
WHITESPACE = frozenset(c for c in map(chr, range(0x3001)) if c.isspace())


def strip(value):
    """Trim leading and trailing whitespace (a filter of single-line text fields)."""
    return value.strip() if isinstance(value, str) else value


def _character_class(characters, negate: bool = True) -> str:
    """A regex character class of `characters`, as \\uXXXX escapes that Python and ECMA-262 read alike."""
    codes = sorted(map(ord, characters))
    ranges, start = [], None
    for i, code in enumerate(codes):
        start = code if start is None else start
        if i + 1 == len(codes) or codes[i + 1] != code + 1:
            ranges.append(f"\\u{start:04x}" if start == code else f"\\u{start:04x}-\\u{code:04x}")
            start = None
    return f"[{'^' if negate else ''}{''.join(ranges)}]"


class TextOnly:
    """Refuse input that is not text, such as a file part sent to a text field.

    Bound to every field of every form, first, so that no later validator
    (Length, Regexp) ever meets a file. The API sends JSON scalars, which its
    type gate has already checked, so integers and booleans pass.
    """

    def __call__(self, form, field):
        for value in getattr(field, "raw_data", None) or ():
            if not isinstance(value, (str, int, bool)):
                field.errors[:] = []  # this is the only thing worth saying (as Optional does)
                raise StopValidation("Must be text, not a file." if isinstance(value, FileStorage)
                                     else "Must be text.")


class PlainText:
    """Refuse control characters other than `allowed` (tab and line breaks in multi-line text)."""

    def __init__(self, allowed: str = ""):
        self.refused = CONTROL_CHARACTERS - set(allowed)
        self._search = re.compile(_character_class(self.refused, negate=False)).search

    def find(self, text: str) -> str | None:
        """Why `text` breaks this rule, or None."""
        found = self._search(text)
        if found is None:
            return None
        return f"must not contain control characters; found U+{ord(found.group()):04X} at position {found.start() + 1}"

    def __call__(self, form, field):
        problem = self.find(field.data) if isinstance(field.data, str) else None
        if problem is not None:
            raise StopValidation(f"{problem[0].upper()}{problem[1:]}.")

    def pattern(self, trimmed: bool) -> str:
        """The JSON Schema pattern of the values this accepts; `trimmed` says that the
        field strips whitespace first, so that a value as stored neither starts nor ends with it."""
        inner = _character_class(self.refused)
        if not trimmed:
            return f"^{inner}*$"
        edge = _character_class(self.refused | WHITESPACE)
        return f"^(?:{edge}(?:{inner}*{edge})?)?$"


TEXT_ONLY, SINGLE_LINE, MULTI_LINE = TextOnly(), PlainText(), PlainText("\t\n\r")


def text_rules(field) -> list:
    """The rules every field of its kind obeys, whatever the form: text only, and
    for text typed by people (not hidden fields), no control characters."""
    if isinstance(field, StringField) and not isinstance(field, HiddenField):
        return [TEXT_ONLY, MULTI_LINE if isinstance(field, TextAreaField) else SINGLE_LINE]
    return [TEXT_ONLY]


class Form(FlaskForm):
    """The base of every form: binds `text_rules` ahead of each field's own validators."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            field = super().bind_field(form, unbound_field, options)
            field.validators = [*text_rules(field), *field.validators]
            return field

        def wrap_formdata(self, form, formdata):
            # Read from the request (neither None nor a MultiDict given), Flask-WTF would
            # take a JSON body as the form's data; but it may be any JSON value, a list or
            # nesting past the recursion limit. The pages post HTML forms; a JSON body
            # counts as a form with no fields. (The API reads its own JSON: bodies.py.)
            from_request = formdata is not None and not hasattr(formdata, "getlist")
            if from_request and form.is_submitted() and request.is_json:
                return request.form
            return super().wrap_formdata(form, formdata)


_UNLOADED = object()


class UserRefField(Field):
    """A reference to a user, given as an id or a username; `data` is the id.

    The admin pages accept a typed username so that they work without
    JavaScript; the API sends integer ids. `user` is read from the database
    when first asked for: a form built to check a reference the row already
    holds (an API edit that leaves it as it was) never asks.
    """

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self._user = _UNLOADED

    @property
    def user(self) -> User | None:
        if self._user is _UNLOADED:
            value = self.data
            self._user = db.session.get(User, value) if isinstance(value, int) and 0 < value <= MAX_ID else None
        return self._user

    @user.setter
    def user(self, value: User | None) -> None:
        self._user = value

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
            if value == self.object_data:
                # The id the row holds already (the form's data): its foreign key
                # vouches for the user, so it is not looked up again.
                self.data, self._user = value, _UNLOADED
                return
            self.user = db.session.get(User, value) if 0 < value <= MAX_ID else None
        elif isinstance(value, str):
            text = value.strip()
            # A username (in any case) wins over an id: "2024" may be somebody's username.
            self.user = db.session.scalar(db.select(User).where(db.func.lower(User.username) == text.lower()))
            if self.user is None and text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID:
                self.user = db.session.get(User, int(text))
        else:
            raise ValueError("Give a user id or username.")
        if self.user is None:
            raise ValueError(f"No user with id or username {str(value).strip()!r}.")
        self.data = self.user.id

    def process_data(self, value):
        self.data = value
        # Prefilled from a query string (?owner_id=...) too: `user` takes an id no row
        # can have for nobody.
        self._user = _UNLOADED

    def _value(self):
        if self.user is not None:
            return self.user.username
        raw = getattr(self, "raw_value", None)
        return "" if raw is None else str(raw)


# Every password anyone sets, whatever the surface: long enough to resist
# guessing, short enough that hashing it costs nothing unusual.
PASSWORD_LENGTH = Length(min=8, max=256)


class VersionedForm(Form):
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
        validators=[Optional(), PASSWORD_LENGTH],
        description="Leave empty to keep the current password.",
    )
    token_only = BooleanField(
        "API token only (no password login)",
        description="For an administrator without a password: it acts through API tokens and cannot log in.",
    )

    def admin_password_problems(self, was_admin: bool, had_password: bool) -> dict[str, str]:
        """Field -> why not, when this makes an administrator (a new one, or by promotion)
        who would have no password (`had_password`: the row keeps its own if none is
        given), unless token-only use was asked for. Not a field validator: only the
        caller knows the row. (With a password, token_only changes nothing.)"""
        if not self.is_admin.data or was_admin or had_password or self.password.data or self.token_only.data:
            return {}
        return {"password": "An administrator needs a password; or tick "
                            f"“{self.token_only.label.text}” for an account that only uses API tokens."}


class CarForm(VersionedForm):
    model = StringField("Model", filters=[strip], validators=[DataRequired(), Length(min=1, max=100)])
    owner_id = UserRefField("Owner", validators=[InputRequired(message="Choose the car's owner.")])


class TaskForm(VersionedForm):
    title = StringField("Title", filters=[strip], validators=[DataRequired(), Length(min=1, max=200)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=10_000)])
    done = BooleanField("Done")
    assignee_id = UserRefField("Assignee", validators=[Optional()])


class LoginForm(Form):
    login = StringField("Username or email", filters=[strip], validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


class NewPasswordForm(Form):
    """A new password typed twice (`flask users set-password`, and the account page below)."""

    password = PasswordField("New password", validators=[DataRequired(), PASSWORD_LENGTH],
                             description="At least 8 characters.")
    confirm = PasswordField("Repeat the new password",
                            validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")])


class ChangePasswordForm(NewPasswordForm):
    """My account: the current password proves it is me, not someone at my unlocked screen."""

    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=256)])


class TokenForm(Form):
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


class CsvImportForm(FlaskForm):
    """An admin import's two steps: the upload, then its confirmation (the file
    carried back as `content`). A FlaskForm, not a Form: TextOnly would refuse
    the file. The rows themselves are validated by the resource's own form
    (best_app.csvio.validation)."""

    file = FileField("CSV file")
    overwrite = BooleanField("Overwrite rows changed since the export")
    content = HiddenField()
