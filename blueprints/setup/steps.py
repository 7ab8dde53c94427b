"""The Set up email account dialog, each step rendered here: address, password (with what was found),
Advanced settings. The setup and sign-in routes and the inbox (an inbox without an account is the
first step) answer with these."""

from __future__ import annotations

from mailcore.contacts import MISMATCH, sending_rule
from mailcore.discovery.detect import Detection

from ..explain import imap_only, provider_note
from ..htmx import render
from ..web import current_user
from .forms import AddressForm, AdvancedForm, PasswordForm
from .offer import provider_signin_offer

SETUP = "setup/setup.html"


def dialog(step: str, status: int = 200, **context):
    """The dialog at `step`, warning when the address is not the first on the user's contact card."""
    user = current_user()
    address = context.get("address") or ""
    context.setdefault("card_mismatch", bool(address) and sending_rule(user, address) == MISMATCH)
    return render(SETUP, "dialog", status, step=step, **context)


def address_step(form: AddressForm | None = None, status: int = 200, **extra):
    """The first step; without a form, with the user's own address filled in: most set up the account
    they sign in with."""
    if form is None:
        form = AddressForm(formdata=None, address=current_user().email)
    return dialog("address", status, form=form, **extra)


def password_step(form: PasswordForm, detection: Detection, status: int = 200, **extra):
    return dialog("password", status, form=form, detection=detection, address=form.address.data,
                  advice=provider_note(detection.provider), imap_only=imap_only(),
                  provider_signin=provider_signin_offer(detection.provider), **extra)


def advanced_step(form: AdvancedForm, status: int = 200, failures: dict | None = None, not_found: bool = False):
    editing = current_user().account is not None
    return dialog("advanced", status, form=form, failures=failures or {}, editing=editing,
                  address=form.address.data or "", not_found=not_found)

