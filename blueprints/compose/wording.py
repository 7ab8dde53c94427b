"""The lines a reply or a forward starts with, in the user's language and date format."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from ..dates import clock, day


def quote_intro(when: datetime | None, who: str) -> str:
    """"On 1 Dec 2026 at 10:57, Alice Johnson wrote:" / "Den 1 dec. 2026 kl. 10:57 skrev Alice Johnson:"."""
    if when is None:
        return _("%(name)s wrote:", name=who)
    return _("On %(date)s at %(time)s, %(name)s wrote:", date=day(when), time=clock(when), name=who)


def forward_block(fields: dict) -> str:
    """The forwarded message's own headers, above its text, as mail programs write them."""
    lines = ["---------- " + _("Forwarded message") + " ----------",
             _("From:") + " " + fields["from"]]
    if fields["date"] is not None:
        lines.append(_("Date:") + " " + _("%(date)s, %(time)s", date=day(fields["date"]),
                                            time=clock(fields["date"])))
    lines.append(_("Subject:") + " " + fields["subject"])
    if fields["to"]:
        lines.append(_("To:") + " " + fields["to"])
    if fields["cc"]:
        lines.append(_("Cc:") + " " + fields["cc"])
    return "\n".join(lines)
