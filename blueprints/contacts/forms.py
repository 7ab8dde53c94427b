from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..setup.forms import email_address


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").replace(",", "\n").splitlines() if line.strip()]


def email_lines(form, field) -> None:
    """One email address a line; every one must be whole."""
    for line in _lines(field.data):
        local, at, domain = line.rpartition("@")
        if not at or not local or "." not in domain or " " in line:
            raise ValidationError(_l("Not an email address: %(address)s", address=line))


def domain_lines(form, field) -> None:
    for line in _lines(field.data):
        if "@" in line.strip("@") or "." not in line or " " in line:
            raise ValidationError(_l("Not a domain: %(domain)s", domain=line))


class PersonForm(FlaskForm):
    first_name = StringField(_l("First name"), validators=[Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[Length(max=100)])
    title = StringField(_l("Title"), validators=[Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Length(max=64)], render_kw={"inputmode": "tel"})
    company = StringField(_l("Company"), validators=[Length(max=200)],
                          description=_l("A company's name; a new name creates the company."))
    emails = TextAreaField(_l("Email addresses"), validators=[Length(max=5000), email_lines], render_kw={"rows": 3},
                           description=_l("One a line; the first is the first address."))

    def validate_last_name(self, field) -> None:
        if not (self.first_name.data or "").strip() and not (field.data or "").strip():
            raise ValidationError(_l("Enter a first name or a last name."))

    @property
    def addresses(self) -> list[str]:
        return _lines(self.emails.data)


class CompanyForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Length(max=64)], render_kw={"inputmode": "tel"})
    web = StringField(_l("Web page"), validators=[Length(max=500)])
    domains = TextAreaField(_l("Email domains"), validators=[Length(max=5000), domain_lines], render_kw={"rows": 3},
                            description=_l("One a line, such as example.com; never a free email domain."))

    @property
    def domain_list(self) -> list[str]:
        return _lines(self.domains.data)


class MergeForm(FlaskForm):
    other = IntegerField(validators=[InputRequired()])


class AddContactForm(FlaskForm):
    address = HiddenField(validators=[DataRequired(), Length(max=320), email_address])
    first_name = StringField(_l("First name"), validators=[Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[Length(max=100)])
    company_name = StringField(_l("Company"), validators=[Optional(), Length(max=200)])

    def validate_last_name(self, field) -> None:
        if not (self.first_name.data or "").strip() and not (field.data or "").strip():
            raise ValidationError(_l("Enter a first name or a last name."))


class AddressForm(FlaskForm):
    """Only the address (and the CSRF token): Do not add contact, or adding it to a person."""

    address = HiddenField(validators=[DataRequired(), Length(max=320), email_address])
