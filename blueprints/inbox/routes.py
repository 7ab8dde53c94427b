"""The inbox and its Set up email account dialog."""

from __future__ import annotations

from flask import abort, current_app, request, url_for

from mailcore import errors
from mailcore.connect import CheckResult
from mailcore.detect import SOURCE_GUESS, Detection, guessed_settings
from mailcore.jobs import SyncJob, request_sync
from mailcore.mailbox import ListQuery, Page, folder_of, folders, message_of, page, special_folder
from mailcore.actions import set_seen, subscribe
from mailcore.reading import raw_message
from mailcore.render import attachment_part, frame_document, inline_part
from mailcore.render import view as render_view
from mailcore.services import same_address
from mailcore.settings import AccountSettings, Credentials

from ..htmx import redirect_to, render
from ..web import current_account, current_user, db, login_required, mail_service
from . import bp
from .explain import explain, explain_state, imap_only, provider_note
from .password_step import only_the_password, wrong_password_step
from .forms import AddressForm, AdvancedForm, PasswordForm
from .listing import list_query
from .remembered import forget, recall, remember

SETUP = "inbox/setup.html"


def _setup(step: str, status: int = 200, **context):
    user = current_user()
    address = context.get("address") or ""
    context.setdefault("card_mismatch", bool(address) and not same_address(address, user.first_email))
    return render(SETUP, "dialog", status, step=step, **context)


@bp.route("/")
@login_required
def index():
    user = current_user()
    if user.account is None:
        return _setup("address", form=AddressForm(formdata=None, address=user.email))
    view = _inbox_view(user.account)
    block = "listing" if request.headers.get("HX-Target") == "listing" else "main"
    return render("inbox/index.html", block, **view)


def _list_query(folder) -> ListQuery:  # noqa: ANN001
    return list_query(current_account(), folder)


def _inbox_view(account) -> dict:
    """What the inbox shows: folders, the open folder's page, the selected message, the state."""
    session_ = db()
    folder_id = request.values.get("folder", type=int)
    folder = folder_of(session_, account, folder_id)
    if folder_id is not None and folder is None:
        abort(404)
    query = _list_query(folder)
    listing = page(session_, folder, query) if folder else Page(None, [], None)
    reading = {}
    if request.args.get("message", type=int):
        reading = _reading(request.args.get("message", type=int))
    return dict(folders=folders(session_, account), folder=folder, listing=listing, query=query,
                failure=explain_state(account) if account.sync_state not in ("ok", "new") else None,
                can_send=same_address(account.address, current_user().first_email),
                **{"trash": special_folder(session_, account, "trash"), **reading})


@bp.route("/list")
@login_required
def more():
    """The next page of rows, for infinite scroll."""
    account = current_account()
    folder = folder_of(db(), account, request.args.get("folder", type=int))
    if folder is None:
        abort(404)
    query = _list_query(folder)
    return render("inbox/index.html", "rows", listing=page(db(), folder, query), folder=folder, query=query)


@bp.route("/changes")
@login_required
def changes():
    """Nothing (204) while the open folder is unchanged; the refreshed list when it changed."""
    account = current_account()
    folder = folder_of(db(), account, request.args.get("folder", type=int))
    version = request.args.get("v", type=int)
    state = request.args.get("state", "")
    if folder is not None and folder.version == version and state == account.sync_state:
        return "", 204
    if folder is None and state == account.sync_state:
        return "", 204
    return render("inbox/index.html", "listing", **_inbox_view(account))


@bp.route("/refresh", methods=["POST"])
@login_required
def refresh():
    account = current_account()
    start_sync(account.id)
    return render("inbox/index.html", "listing", **_inbox_view(account))


@bp.route("/message/<int:message_id>")
@login_required
def message(message_id: int):
    return render("inbox/index.html", "reading", **_reading(message_id))


@bp.route("/message/<int:message_id>/window")
@login_required
def message_window(message_id: int):
    return render("inbox/message.html", "reading", **_reading(message_id))


@bp.route("/message/<int:message_id>/print")
@login_required
def message_print(message_id: int):
    return render("inbox/print.html", "content", **_reading(message_id))


def _reading(message_id: int) -> dict:
    """The selected message as the reading pane shows it; marked read if the user wants that."""
    account = current_account()
    found = message_of(db(), account, message_id)
    if found is None:
        abort(404)
    mail = current_app.extensions["mail"]
    user = current_user()
    allow_remote = user.show_inline_images or request.args.get("remote") == "1"
    try:
        raw = raw_message(db(), account, found, mail["env"], mail["box"])
    except errors.MailError:
        return dict(selected=found, shown=None, frame=None, allow_remote=allow_remote, move_targets=[], trash=None)
    origin = request.host_url.rstrip("/")
    shown = render_view(raw, allow_remote=allow_remote, cid_url=lambda cid: origin + url_for(
        "inbox.inline_image", message_id=found.id, cid=cid))
    frame = frame_document(shown.html, app_origin=origin, allow_remote=allow_remote) if shown.html else None
    if user.mark_read_in_preview and not found.seen:
        try:
            set_seen(db(), account, [found], True, mail["env"], mail["box"])
        except errors.MailError:
            pass  # stays unread here, as it is on the server
    return dict(selected=found, shown=shown, frame=frame, allow_remote=allow_remote,
                move_targets=folders(db(), account), trash=special_folder(db(), account, "trash"))


@bp.route("/message/<int:message_id>/attachment/<int:index>")
@login_required
def attachment(message_id: int, index: int):
    item, payload = _part(message_id, lambda raw: attachment_part(raw, index))
    return _download(item, payload, inline=False)


@bp.route("/message/<int:message_id>/cid/<path:cid>")
@login_required
def inline_image(message_id: int, cid: str):
    item, payload = _part(message_id, lambda raw: inline_part(raw, cid))
    if not item.content_type.startswith("image/") or "svg" in item.content_type:
        abort(404)  # only plain images are shown inline; SVG can carry script
    return _download(item, payload, inline=True)


def _part(message_id: int, pick):
    account = current_account()
    found = message_of(db(), account, message_id)
    if found is None:
        abort(404)
    mail = current_app.extensions["mail"]
    try:
        picked = pick(raw_message(db(), account, found, mail["env"], mail["box"]))
    except errors.MailError:
        abort(502)
    if picked is None:
        abort(404)
    return picked


def _download(item, payload: bytes, inline: bool):
    from urllib.parse import quote

    from flask import Response

    content_type = item.content_type if inline else "application/octet-stream"
    response = Response(payload, content_type=content_type)
    disposition = "inline" if inline else "attachment"
    ascii_name = item.filename.encode("ascii", "replace").decode().replace('"', "_")
    response.headers["Content-Disposition"] = (
        f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(item.filename)}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/messages/seen", methods=["POST"])
@login_required
def mark_seen():
    """Mark as read (seen=1) or unread (seen=0); the list answers with the true state either way."""
    account = current_account()
    chosen = _chosen_messages(account)
    mail = current_app.extensions["mail"]
    problem = None
    try:
        set_seen(db(), account, chosen, request.form.get("seen") == "1", mail["env"], mail["box"])
    except errors.MailError as exc:
        db().rollback()
        problem = explain(exc)
    return render("inbox/index.html", "listing", action_problem=problem, **_inbox_view(account))


@bp.route("/messages/move", methods=["POST"])
@login_required
def move_messages():
    account = current_account()
    chosen = _chosen_messages(account)
    target = folder_of(db(), account, request.form.get("target", type=int))
    if target is None or not request.form.get("target"):
        abort(404)
    from .moves import answer_move

    return answer_move(account, chosen, target)


@bp.route("/folders/<int:folder_id>/subscribe", methods=["POST"])
@login_required
def subscribe_folder(folder_id: int):
    account = current_account()
    folder = folder_of(db(), account, folder_id)
    if folder is None:
        abort(404)
    mail = current_app.extensions["mail"]
    subscribe(db(), account, folder, mail["env"], mail["box"])
    start_sync(account.id)
    return redirect_to(url_for("inbox.index", folder=folder.id))


def _chosen_messages(account) -> list:
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()][:1000]
    chosen = [m for m in (message_of(db(), account, i) for i in ids) if m is not None]
    if len(chosen) != len(ids) or not chosen:
        abort(404)  # another user's message, or none: nothing is done
    return chosen


def start_sync(account_id: int) -> None:
    """Ask for a sync now: the embedded or external worker picks it up; inline runs it here."""
    mail = current_app.extensions["mail"]
    request_sync(mail["sessions"], account_id)
    if mail["runner"] is not None:
        mail["runner"].submit(SyncJob(account_id))


@bp.route("/setup")
@login_required
def setup():
    return _setup("address", form=AddressForm(formdata=None, address=current_user().email))


@bp.route("/setup/next", methods=["POST"])
@login_required
def setup_next():
    form = AddressForm()
    if not form.validate_on_submit():
        return _setup("address", 422, form=form)
    try:
        found = _discover(form.address.data)
    except errors.RateLimited as exc:
        form.address.errors = [explain(exc).message]
        return _setup("address", 429, form=form)
    if found.settings is None and not found.pop3_only:
        advanced = AdvancedForm(formdata=None)
        advanced.fill(guessed_settings(form.address.data))
        return _advanced(advanced, not_found=True)
    return _password_step(PasswordForm(formdata=None, address=form.address.data), found)


def _discover(address: str) -> Detection:
    found = mail_service().discover(current_user(), address)
    remember(address, found)
    return found


def _password_step(form: PasswordForm, detection: Detection, status: int = 200, refused=None):  # noqa: ANN001
    return _setup("password", status, form=form, detection=detection, address=form.address.data,
                  advice=provider_note(detection.provider), imap_only=imap_only(), refused=refused)


@bp.route("/setup/login", methods=["POST"])
@login_required
def setup_login():
    form = PasswordForm()
    if not form.address.validate(form):
        return _setup("address", 422, form=AddressForm(formdata=None, address=form.address.data))
    providers = current_app.extensions["mail"]["providers"]
    found = recall(form.address.data, providers)
    if found is None:
        try:
            found = _discover(form.address.data)
        except errors.RateLimited as exc:
            return _advanced(_filled(guessed_settings(form.address.data)), 429, {"general": explain(exc)})
    if not form.validate_on_submit() or found.settings is None:
        return _password_step(form, found, 422)
    password = form.password.data
    credentials = Credentials(password, password)
    retry = wrong_password_step(form, found, _password_step)
    if found.source == SOURCE_GUESS:
        return _connect_guess(found, credentials, retry)
    return _connect(found.settings, credentials, found.provider, found.source, password_step=retry)


def _connect_guess(found: Detection, credentials: Credentials, retry=None):  # noqa: ANN001
    """Probed servers do not say which user name they want: the whole address first, then its local part."""
    first = _try(found.settings, credentials, found.provider, found.source)
    if not isinstance(first.incoming, errors.AuthenticationFailed):
        return _answer(first, found.settings, found.provider, password_step=retry)
    address = found.settings.address
    local = address.rpartition("@")[0]
    by_local = AccountSettings(address, found.settings.incoming.with_username(local),
                               found.settings.outgoing.with_username(local))
    second = _try(by_local, credentials, found.provider, found.source)
    if second.ok:
        return _answer(second, by_local, found.provider)
    return _answer(first, found.settings, found.provider, password_step=retry)


@bp.route("/setup/advanced", methods=["GET", "POST"])
@login_required
def setup_advanced():
    user = current_user()
    form = AdvancedForm()
    if request.method == "GET":
        address = (request.args.get("address") or "").strip()
        if user.account is not None and (not address or same_address(address, user.account.address)):
            from mailcore.services import settings_of

            form.fill(settings_of(user.account), user.account.smtp_same_login)
        elif address and AddressForm(formdata=None, address=address, meta={"csrf": False}).validate():
            found = (recall(address, current_app.extensions["mail"]["providers"])
                     or current_app.extensions["mail"]["detector"].from_lists(address))
            form.fill(found.settings if found and found.settings else guessed_settings(address))
        else:
            form.address.data = address
        return _advanced(form)
    if not form.validate_on_submit():
        return _advanced(form, status=422)
    settings = form.settings()
    stored = None
    if user.account is not None and same_address(settings.address, user.account.address):
        stored = mail_service().stored_credentials(user.account)
    credentials = form.credentials(stored)
    if credentials is None:
        form.imap_password.errors = [*form.imap_password.errors, _missing_password()]
        return _advanced(form, status=422)
    found = recall(settings.address, current_app.extensions["mail"]["providers"])
    return _connect(settings, credentials, found.provider if found else None, "manual", form)


def _missing_password() -> str:
    from flask_babel import gettext as _

    return _("Enter the password.")


def _advanced(form: AdvancedForm, status: int = 200, failures: dict | None = None, not_found: bool = False):
    user = current_user()
    editing = user.account is not None
    return _setup("advanced", status, form=form, failures=failures or {}, editing=editing,
                  address=form.address.data or "", not_found=not_found)


def _filled(settings: AccountSettings) -> AdvancedForm:
    form = AdvancedForm(formdata=None)
    form.fill(settings)
    return form


def _try(settings, credentials, provider, source) -> CheckResult:
    try:
        return mail_service().connect(current_user(), settings, credentials,
                                      provider_id=provider.id if provider else None, source=source)
    except errors.RateLimited as exc:
        return CheckResult(incoming=exc)


def _answer(result: CheckResult, settings, provider, form: AdvancedForm | None = None, password_step=None):  # noqa: ANN001
    """The inbox on success; a refused password on the password step; Advanced settings otherwise."""
    if result.ok:
        forget()
        start_sync(current_user().account.id)
        return redirect_to(url_for("inbox.index"))
    if password_step is not None and only_the_password(result):
        return password_step(explain(result.incoming or result.outgoing, provider))
    if isinstance(result.incoming, errors.RateLimited):
        failures = {"general": explain(result.incoming)}
    else:
        failures = {side: explain(exc, provider) for side, exc in
                    (("incoming", result.incoming), ("outgoing", result.outgoing)) if exc}
    return _advanced(form or _filled(settings), status=422, failures=failures)


def _connect(settings, credentials, provider, source, form: AdvancedForm | None = None, password_step=None):  # noqa: ANN001
    """Try the account for real and answer with the inbox or the reasons."""
    return _answer(_try(settings, credentials, provider, source), settings, provider, form, password_step)
