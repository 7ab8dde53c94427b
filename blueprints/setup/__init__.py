from flask import Blueprint

bp = Blueprint("setup", __name__, url_prefix="/inbox/setup")

from . import routes  # noqa: E402,F401
from .oauth import oauth_bp  # noqa: E402,F401
