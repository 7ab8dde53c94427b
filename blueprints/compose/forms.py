from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, MultipleFileField, StringField, TextAreaField
from wtforms.validators import Length

# a list of addresses: app.js shows each as a chip, suggested from the datalist of the people the user knows
RECIPIENTS = {"autocomplete": "off", "list": "contacts", "data-chips": ""}


class ComposeForm(FlaskForm):
    to = StringField(_l("To"), validators=[Length(max=10000)], render_kw=RECIPIENTS)
    cc = StringField(_l("Cc"), validators=[Length(max=10000)], render_kw=RECIPIENTS)
    bcc = StringField(_l("Bcc"), validators=[Length(max=10000)], render_kw=RECIPIENTS)
    subject = StringField(_l("Subject"), validators=[Length(max=998)])
    body = TextAreaField(_l("Message"), validators=[Length(max=2_000_000)], render_kw={"rows": 10})
    html = HiddenField(validators=[Length(max=4_000_000)])  # the editor's formatting; cleaned on the server
    attachments = MultipleFileField(_l("Attachments"))
    in_reply_to = HiddenField()
    references = HiddenField()
    mode = HiddenField()  # new, reply, all, forward or draft: the window's title
    window = HiddenField()  # the compose window's key: its one draft and its uploads
    saved = HiddenField()  # fingerprint of what was last saved (or opened): unchanged means nothing to save
