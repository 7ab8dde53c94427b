from urllib.parse import urlsplit

from flask import g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from mailcore import crm_signin as throttle
from mailcore.zones import is_zone

from ..security import retry_after, signin_limits
from ..web import db, sign_in, sign_out
from . import devices
from .blueprint import bp
from .forms import CrmSigninForm


def _safe_next(target: str | None) -> str:
    """Only a path on this site; never an absolute URL an attacker could supply."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("inbox.index")


def keep_browser_zone(user, name: str | None) -> None:
    """The browser's time zone (app.js fills it into the sign-in form) becomes the user's if they have
    none, so the first page after sign-in already shows their times; a zone they have stays."""
    if user.timezone is None and is_zone(name):
        user.timezone = name
        db().commit()


@bp.route("/signin", methods=["GET", "POST"])
def signin():
    if g.user is not None:
        return redirect(_safe_next(request.args.get("next")))
    form = CrmSigninForm()
    if not form.validate_on_submit():
        return render_template("auth/signin.html", form=form, error=None)
    try:
        user = throttle.sign_in(db(), form.email.data, form.password.data, request.remote_addr, signin_limits(),
                                device=devices.nonce_for(form.email.data))
    except throttle.TooManyFailures as refused:
        # the same answer whether or not the user exists, and the password is not looked at
        minutes = -(-refused.retry_after // 60)
        error = ngettext("Too many failed sign-ins. Try again in %(num)s minute.",
                         "Too many failed sign-ins. Try again in %(num)s minutes.", minutes)
        return retry_after((render_template("auth/signin.html", form=form, error=error), 429), refused.retry_after)
    if user is None:
        return render_template("auth/signin.html", form=form, error=_("The user name or password is wrong.")), 422
    sign_in(user)
    keep_browser_zone(user, request.form.get("zone"))
    return devices.remember(redirect(_safe_next(request.args.get("next"))), form.email.data)


@bp.route("/signout", methods=["POST"])
def signout():
    sign_out()
    return redirect(url_for("auth.signin"))
