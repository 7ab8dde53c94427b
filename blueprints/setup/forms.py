"""The setup dialog's forms. Labels are the wording table's words."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from mailcore.settings import AccountSettings, Credentials, ServerSettings

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"^[^@\s<>()\[\],;:\"\\]+@{_LABEL}(?:\.{_LABEL})+$")
_HOST = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$|^\[?[0-9A-Fa-f:.]+\]?$")


def email_address(form, field) -> None:
    value = (field.data or "").strip()
    field.data = value
    local, at, domain = value.rpartition("@")
    try:
        ascii_value = f"{local}@{domain.encode('idna').decode()}" if at else value
    except UnicodeError:
        ascii_value = value
    if not _ADDRESS.match(ascii_value) and not _ADDRESS.match(value):
        raise ValidationError(_l("Enter a whole email address, such as name@example.com."))


def server_name(form, field) -> None:
    value = (field.data or "").strip().rstrip(".")
    field.data = value
    if not _HOST.match(value):
        raise ValidationError(_l("Enter a server name, such as imap.example.com."))


class AddressForm(FlaskForm):
    address = StringField(_l("Email account"), validators=[DataRequired(), Length(max=320), email_address],
                          render_kw={"autocomplete": "email", "autofocus": True, "inputmode": "email",
                                     "placeholder": "name@example.com"})


class PasswordForm(AddressForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1000)],
                             render_kw={"autocomplete": "current-password", "autofocus": True})


_SSL_CHOICES = [SelectChoice("on", _l("On")), SelectChoice("off", _l("Off"))]
_AUTH_CHOICES = [SelectChoice("password", _l("Password")), SelectChoice("oauth2", _l("OAuth 2.0"))]
_port = [DataRequired(), NumberRange(min=1, max=65535)]


class AdvancedForm(FlaskForm):
    address = StringField(_l("Email account"), validators=[DataRequired(), Length(max=320), email_address],
                          render_kw={"autocomplete": "email", "inputmode": "email"})
    imap_host = StringField(_l("Incoming e-mail server"), validators=[DataRequired(), Length(max=255), server_name])
    imap_port = IntegerField(_l("Port"), validators=_port, default=993)
    imap_username = StringField(_l("User name"), validators=[DataRequired(), Length(max=320)],
                                description=_l("your full email address"))
    imap_password = PasswordField(_l("Password"), validators=[Optional(), Length(max=1000)],
                                  description=_l("the password for your email account"),
                                  render_kw={"autocomplete": "current-password"})
    imap_ssl = RadioField(_l("SSL"), choices=_SSL_CHOICES, default="on",
                          description=_l("depends on your email provider's settings"))
    imap_auth = SelectField(_l("Authentication"), choices=_AUTH_CHOICES, default="password")
    smtp_same_login = BooleanField(_l("Use the same user name and password as for incoming email"), default=True)
    smtp_host = StringField(_l("Outgoing e-mail server"), validators=[DataRequired(), Length(max=255), server_name])
    smtp_port = IntegerField(_l("Port"), validators=_port, default=465)
    smtp_username = StringField(_l("User name"), validators=[Optional(), Length(max=320)],
                                description=_l("your full email address"))
    smtp_password = PasswordField(_l("Password"), validators=[Optional(), Length(max=1000)],
                                  description=_l("the password for your email account"),
                                  render_kw={"autocomplete": "current-password"})
    smtp_ssl = RadioField(_l("SSL"), choices=_SSL_CHOICES, default="on",
                          description=_l("depends on your email provider's settings"))
    smtp_auth = SelectField(_l("Authentication"), choices=_AUTH_CHOICES, default="password")

    def fill(self, settings: AccountSettings, same_login: bool = True,
             auth: tuple[str, str] = ("password", "password")) -> None:
        """Pre-fill from settings (never a password)."""
        self.address.data = settings.address
        self.imap_auth.data, self.smtp_auth.data = auth
        for prefix, server in (("imap", settings.incoming), ("smtp", settings.outgoing)):
            getattr(self, f"{prefix}_host").data = server.host
            getattr(self, f"{prefix}_port").data = server.port
            getattr(self, f"{prefix}_username").data = server.username
            getattr(self, f"{prefix}_ssl").data = "on" if server.ssl else "off"
        self.smtp_same_login.data = same_login

    def settings(self) -> AccountSettings:
        incoming = ServerSettings(self.imap_host.data.lower(), self.imap_port.data, self.imap_ssl.data == "on",
                                  self.imap_username.data.strip())
        outgoing_user = incoming.username if self.smtp_same_login.data else (self.smtp_username.data or "").strip()
        outgoing = ServerSettings(self.smtp_host.data.lower(), self.smtp_port.data, self.smtp_ssl.data == "on",
                                  outgoing_user)
        return AccountSettings(self.address.data, incoming, outgoing)

    def uses_oauth(self) -> bool:
        return "oauth2" in (self.imap_auth.data, self.smtp_auth.data)

    def password_field(self, incoming: bool) -> PasswordField:
        return self.imap_password if incoming or self.smtp_same_login.data else self.smtp_password

    def password_for(self, incoming: bool, stored: AccountSettings | None, passwords: Credentials | None) -> str:
        """The side's typed password. A blank one keeps the stored password only when the side's
        server, port, user name and SSL are all unchanged, so a stored password never goes to a
        server it was not given for. "" when there is none, with the reason beside the field."""
        typed = self.password_field(incoming).data
        if typed:
            return typed
        settings = self.settings()
        if stored and passwords:
            now, before, password = ((settings.incoming, stored.incoming, passwords.incoming_password) if incoming
                                     else (settings.outgoing, stored.outgoing, passwords.outgoing_password))
            if now == before:
                return password
        field = self.password_field(incoming)
        if not field.errors:
            field.errors = [*field.errors, _l("The server settings have changed, so enter the password again.")
                            if stored else _l("Enter the password.")]
        return ""

    def credentials(self, stored: AccountSettings | None, passwords: Credentials | None) -> Credentials | None:
        """Both sides' passwords (see password_for); None when one is needed."""
        incoming = self.password_for(True, stored, passwords)
        outgoing = self.password_for(False, stored, passwords)
        return Credentials(incoming, outgoing) if incoming and outgoing else None

    def validate_smtp_username(self, field) -> None:
        if not self.smtp_same_login.data and not (field.data or "").strip():
            raise ValidationError(_l("Enter the user name for outgoing email."))
