"""Logging in and out of the admin pages.

Only failed attempts are throttled, per account and per client address
(LOGIN_RATE_LIMIT each), so an attacker cannot guess passwords quickly and
an admin who types correctly is never slowed down. After login we only
follow a `next` that is a path on this site: anything else would turn the
login page into an open redirect.

Logging in starts a server-side session and logging out ends it
(best_app.auth), so a copy of the cookie is worth nothing after logout.

Every attempt the form accepts is in the login audit trail (best_app.audit),
refused ones too: a login and a logout with their session, in one
transaction; a refusal, including by the throttle, on its own.
"""
from __future__ import annotations

from typing import Callable
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.security import check_password_hash, generate_password_hash

from best_app import audit
from best_app.admin import bp
from best_app.auth import begin_session, end_session
from best_app.extensions import db, limiter
from best_app.forms import LoginForm
from best_app.models import User, login_event

THROTTLED = "Too many failed login attempts. Wait a minute, then try again."
BAD_CREDENTIALS = "Unknown username or email, or wrong password."
NOT_ADMIN = "This account is not an administrator, so it cannot use the admin pages."
_dummy_hashes: dict[str, str] = {}
# Endpoint -> its page for a 429 (given the limit's message), for the other
# throttled forms of the admin pages; anything else gets the login page.
THROTTLED_PAGES: dict[str, Callable[[str], ResponseReturnValue]] = {}


def _dummy_hash() -> str:
    """A hash to check when no user matches, made with the configured method, so
    that a wrong username takes as long as a wrong password (no enumeration)."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash("not a real password", method=method)
    return _dummy_hashes[method]


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None."""
    if not target or len(target) > 2000:
        return None
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None  # browsers read "/\evil.example" as "//evil.example"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def login_limit() -> str:
    return current_app.config.get("LOGIN_RATE_LIMIT", "5 per minute")


def _account_key() -> str:
    # One account, one budget, whether it is named by username or by email.
    login = request.form.get("login", "").strip()[:254]
    user = User.named(login) if login else None
    return f"account:{user.id}" if user is not None else "login:" + login.lower()


def _failed(response) -> bool:
    return response.status_code != 302  # success is the only redirect


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, key_func=get_remote_address, methods=["POST"], deduct_when=_failed,
               scope="admin-login-address", error_message=THROTTLED)
@limiter.limit(login_limit, key_func=_account_key, methods=["POST"], deduct_when=_failed,
               scope="admin-login-account", error_message=THROTTLED)
def login():
    target = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(target or url_for("admin.dashboard"))
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        user = User.named(form.login.data)
        if user is None or not user.password_hash:
            check_password_hash(_dummy_hash(), form.password.data)
        if user is None or not user.check_password(form.password.data):
            error, status = BAD_CREDENTIALS, 401
            reason = login_event.UNKNOWN_ACCOUNT if user is None else login_event.WRONG_PASSWORD
            audit.record_alone(login_event.LOGIN_FAILED, user=user, login=form.login.data, reason=reason)
        elif not user.is_admin:
            error, status = NOT_ADMIN, 403
            audit.record_alone(login_event.LOGIN_FAILED, user=user, login=form.login.data,
                               reason=login_event.NOT_ADMIN)
        else:
            begin_session(user)
            audit.record(login_event.LOGIN, user=user, login=form.login.data)
            db.session.commit()
            flash(f"Welcome, {user.name or user.username}.", "success")
            return redirect(target or url_for("admin.dashboard"))
    elif request.method == "POST":
        status = 400
    return render_template("admin/login.html", form=form, error=error), status


def _record_throttled() -> None:
    login = request.form.get("login", "")
    try:
        user = User.named(login.strip()[:254])
    except SQLAlchemyError:  # still a 429, not a server error; the event is logged as not stored
        user = None
    audit.record_throttled(user, login)


@bp.errorhandler(429)
def too_many_attempts(error):
    if request.endpoint in THROTTLED_PAGES:
        page = THROTTLED_PAGES[request.endpoint](error.description)
    else:
        if request.endpoint == "admin.login":
            _record_throttled()
        page = (render_template("admin/login.html", form=LoginForm(), error=THROTTLED), 429)
    response = current_app.make_response(page)
    response.headers["Retry-After"] = "60"
    return response


@bp.post("/logout")
def logout():
    audit.record(login_event.LOGOUT, user=current_user)
    end_session()
    db.session.commit()
    flash("You have been logged out.", "info")
    return redirect(url_for("admin.login"))
