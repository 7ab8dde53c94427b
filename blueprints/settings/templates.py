"""Templates under Personal settings: the user's own and the shared ones listed, written with the
editor, their fields inserted from a menu, their attachments kept; only the owner changes one."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_babel import gettext as _

from mailcore.compose import rich
from mailcore.compose import templates as kept
from mailcore.compose.message import MAX_ATTACHMENTS_BYTES
from mailcore.reading.render import safe_filename

from ..htmx import redirect_to, render
from ..web import current_user, db, login_required
from .blueprint import bp
from .forms import ConfirmForm, TemplateForm

PAGE = "settings/templates.html"


def _page(form: TemplateForm | None = None, template=None, status: int = 200, problem: str | None = None):
    user = current_user()
    return render(PAGE, "main", status, templates=kept.visible(db(), user), form=form, current=template,
                  user=user, fields=field_names(), problem=problem, confirm=ConfirmForm(),
                  editor_html=(form.html.data if form and form.html.data else template.html if template else ""))


def field_names() -> list[tuple[str, str]]:
    return [("contact.first_name", _("Contact's first name")), ("contact.last_name", _("Contact's last name")),
            ("contact.full_name", _("Contact's full name")), ("contact.title", _("Contact's title")),
            ("contact.company", _("Contact's company")), ("me.name", _("Your name")), ("me.title", _("Your title")),
            ("me.phone", _("Your phone"))]


@bp.route("/templates", methods=["GET"])
@login_required
def templates():
    return _page()


@bp.route("/templates/new", methods=["GET", "POST"])
@bp.route("/templates/<int:template_id>", methods=["GET", "POST"])
@login_required
def edit_template(template_id: int | None = None):
    user = current_user()
    template = kept.own(db(), user, template_id) if template_id else None
    if template_id and template is None:
        abort(404)  # another user's (shared ones are used, not changed, by others)
    form = TemplateForm(obj=template) if template and request.method == "GET" else TemplateForm()
    if form.validate_on_submit():
        html = form.html.data if form.html.data else rich.from_text(form.text.data or "")
        template = kept.save(db(), user, template, name=form.name.data, subject=form.subject.data or "", html=html,
                             shared=form.shared.data)
        for file in request.files.getlist("attachments"):
            if getattr(file, "filename", ""):
                try:
                    data = file.stream.read(MAX_ATTACHMENTS_BYTES + 1)
                    kept.add_file(db(), template, safe_filename(file.filename),
                                  file.mimetype or "application/octet-stream", data)
                except kept.TooLarge:
                    return _page(form, template, 422, _("A template's attachments can be at most %(mb)s MB in all.",
                                                         mb=kept.MAX_FILES_BYTES // 2**20))
        return redirect_to(url_for("settings.edit_template", template_id=template.id, saved=1))
    if template and request.method == "GET":
        form.text.data = rich.plain_text(template.html)
    return _page(form, template, 422 if form.errors else 200)


@bp.route("/templates/<int:template_id>/delete", methods=["POST"])
@login_required
def delete_template(template_id: int):
    template = kept.own(db(), current_user(), template_id)
    if template is None or not ConfirmForm().validate_on_submit():
        abort(404 if template is None else 400)
    db().delete(template)
    db().commit()
    return redirect_to(url_for("settings.templates"))


@bp.route("/templates/<int:template_id>/files/<int:file_id>/remove", methods=["POST"])
@login_required
def remove_template_file(template_id: int, file_id: int):
    template = kept.own(db(), current_user(), template_id)
    if template is None or not ConfirmForm().validate_on_submit() or not kept.remove_file(db(), template, file_id):
        abort(404)
    return redirect_to(url_for("settings.edit_template", template_id=template.id))
