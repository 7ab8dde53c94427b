from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ..setup.forms import email_address


class LanguageForm(FlaskForm):
    language = RadioField(_l("Language"), choices=[SelectChoice("sv", "Svenska"), SelectChoice("en", "English")],
                          validators=[DataRequired()])
    signature = TextAreaField(_l("Signature"), validators=[Length(max=5000)], render_kw={"rows": 4},
                              description=_l("Added to every email you write."))


class GeneralOptionsForm(FlaskForm):
    show_inline_images = BooleanField(_l("Show inline images"))
    mark_read_in_preview = BooleanField(_l("Mark as read in preview"))
    save_sent_copy = BooleanField(_l("Save copy of sent email"))


class ContactEmailForm(FlaskForm):
    address = StringField(_l("Email address"), validators=[DataRequired(), Length(max=320), email_address],
                          render_kw={"autocomplete": "email", "inputmode": "email"})


class ConfirmForm(FlaskForm):
    """A form with only its CSRF token, for buttons that change something."""
