"""My account: who I am logged in as, and changing my own password.

The current password is asked for first, so that someone at an unlocked
screen cannot take the account over; wrong guesses are throttled like
logins (LOGIN_RATE_LIMIT per account). A new password ends the account's
other admin sessions and keeps this one (best_app.models.admin_session), and
is in the login audit trail (best_app.audit); both follow from setting it.
"""
from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select

from best_app.admin import bp
from best_app.admin.auth import THROTTLED_PAGES, login_limit
from best_app.extensions import db, limiter
from best_app.forms import ChangePasswordForm
from best_app.models import AdminSession

WRONG_PASSWORD = "This is not your current password."
THROTTLED = "Too many wrong passwords. Wait a minute, then try again."


def _account_key() -> str:
    return f"account:{current_user.id}"


def _wrong_password(response) -> bool:
    return g.get("wrong_current_password", False)


def account_page(form: ChangePasswordForm, status: int = 200, error: str | None = None):
    sessions = db.session.scalar(select(func.count()).select_from(AdminSession)
                                 .where(AdminSession.user_id == current_user.id))
    return render_template("admin/account.html", form=form, sessions=sessions, error=error), status


@bp.route("/account", methods=["GET", "POST"])
@limiter.limit(login_limit, key_func=_account_key, methods=["POST"], deduct_when=_wrong_password,
               scope="admin-account-password", error_message=THROTTLED)
def account():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return account_page(form, 400 if form.is_submitted() else 200)
    if not current_user.check_password(form.current_password.data):
        g.wrong_current_password = True
        form.current_password.errors.append(WRONG_PASSWORD)
        return account_page(form, 400)
    current_user.set_password(form.password.data)
    db.session.commit()
    flash("Your password was changed. Your other sessions have been logged out; this one continues.", "success")
    return redirect(url_for("admin.account"))


THROTTLED_PAGES["admin.account"] = lambda message: account_page(ChangePasswordForm(formdata=None), 429, message)
