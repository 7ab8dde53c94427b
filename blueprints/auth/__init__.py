"""Signing in to the CRM and out again."""

from . import routes  # noqa: F401 - registers the routes on bp
from .blueprint import bp

__all__ = ["bp"]
