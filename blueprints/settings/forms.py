from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from mailcore.zones import choices, is_zone

from ..setup.forms import email_address


def known_zone(_form, field) -> None:
    if not is_zone(field.data):
        raise ValidationError(_l("Choose a time zone from the list."))


def never_lines(_form, field) -> None:
    """The Never archive list: an address or a domain a line."""
    for line in (field.data or "").replace(",", "\n").splitlines():
        item = line.strip().lstrip("@")
        if item and (" " in item or "." not in item.rpartition("@")[2] or item.endswith("@")):
            raise ValidationError(_l("Not an email address or domain: %(item)s", item=line.strip()))


class LanguageForm(FlaskForm):
    language = RadioField(_l("Language"), choices=[SelectChoice("sv", "Svenska"), SelectChoice("en", "English")],
                          validators=[DataRequired()])
    signature = TextAreaField(_l("Signature"), validators=[Length(max=5000)], render_kw={"rows": 4},
                              description=_l("Added to every email you write."))
    signature_html = HiddenField(validators=[Length(max=200_000)])  # the editor's; cleaned on the server
    timezone = SelectField(_l("Time zone"), validate_choice=False, validators=[known_zone],
                           description=_l("Dates and times are shown in this time zone."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = [(name, name.replace("_", " ")) for name in choices()]
        current = self.timezone.data
        if is_zone(current) and current not in dict(self.timezone.choices):
            self.timezone.choices.insert(0, (current, current))  # an old-style name still shows as chosen


class GeneralOptionsForm(FlaskForm):
    show_inline_images = BooleanField(_l("Show inline images"))
    mark_read_in_preview = BooleanField(_l("Mark as read in preview"))
    save_sent_copy = BooleanField(_l("Save copy of sent email"))
    archive_automatically = BooleanField(_l("Archive email with known contacts automatically"))
    archive_visible = RadioField(_l("Visible for"), choices=[SelectChoice("all", _l("All users")),
                                                                 SelectChoice("me", _l("Only me"))],
                                 default="all", validators=[Optional()])
    never_archive = TextAreaField(_l("Never archive"), validators=[Length(max=5000), never_lines],
                                  render_kw={"rows": 3},
                                  description=_l("Email addresses and domains, one a line, such as "
                                                 "anna@example.com or example.com."))


class ContactEmailForm(FlaskForm):
    address = StringField(_l("Email address"), validators=[DataRequired(), Length(max=320), email_address],
                          render_kw={"autocomplete": "email", "inputmode": "email"})


class ConfirmForm(FlaskForm):
    """A form with only its CSRF token, for buttons that change something."""


class LogoForm(FlaskForm):
    logo = FileField(_l("Logo"),
                     description=_l("A PNG, JPEG or GIF image of at most 200 kB, shown under your signature."))


class TemplateForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    subject = StringField(_l("Subject"), validators=[Length(max=998)])
    text = TextAreaField(_l("Text"), validators=[Length(max=200_000)], render_kw={"rows": 10})
    html = HiddenField(validators=[Length(max=2_000_000)])  # the editor's; cleaned on the server
    shared = BooleanField(_l("Shared with all users"))
