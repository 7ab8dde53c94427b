"""The Set up email account dialog (steps.py renders each step) and signing in at the provider."""

from . import oauth, routes  # noqa: F401 - register their routes on bp and oauth_bp
from .blueprint import bp, oauth_bp

__all__ = ["bp", "oauth_bp"]
