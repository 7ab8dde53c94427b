from flask import Blueprint

bp = Blueprint("setup", __name__, url_prefix="/inbox/setup")
oauth_bp = Blueprint("oauth", __name__, url_prefix="/inbox/oauth")
