"""Contacts: finding the CRM's persons and companies, their cards (cards.py renders them), editing and
merging, and the Add contact dialog the reading pane opens for an unknown address (adding.py's routes,
dialog.py renders it)."""

from . import adding, archiving, routes  # noqa: F401 - register their routes on bp
from .blueprint import bp

__all__ = ["bp"]
