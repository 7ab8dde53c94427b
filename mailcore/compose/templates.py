"""Templates: texts a user writes again and again, their own or shared with every user, chosen in a
compose window and filled from the CRM.

A template's fields ([[contact.first_name]] and the others of `rich.FIELDS`) are filled from the CRM
person that holds the window's first recipient (as the user may see them) and from the user's own
contact card; a field without a value is left out cleanly. Only the owner changes or deletes a
template; a shared one is chosen by everyone.
"""

from __future__ import annotations

from email.utils import getaddresses

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mailcore.addresses import normalise_address
from mailcore.compose import rich
from mailcore.crm.people import persons_for
from mailcore.models import MailTemplate, MailTemplateFile, User

MAX_FILES_BYTES = 10 * 1024 * 1024  # a template's attachments in all


class TooLarge(ValueError):
    """The template's attachments would be larger than MAX_FILES_BYTES."""


def visible(db: Session, user: User) -> list[MailTemplate]:
    """The user's own templates and those shared with everyone, by name."""
    return list(db.scalars(select(MailTemplate).where(or_(MailTemplate.user_id == user.id, MailTemplate.shared))
                           .order_by(MailTemplate.name, MailTemplate.id)))


def chosen(db: Session, user: User, template_id: int) -> MailTemplate | None:
    """A template the user may use: theirs or shared; None for any other."""
    template = db.get(MailTemplate, template_id)
    return template if template is not None and (template.user_id == user.id or template.shared) else None


def own(db: Session, user: User, template_id: int) -> MailTemplate | None:
    """A template the user may change: only their own."""
    template = db.get(MailTemplate, template_id)
    return template if template is not None and template.user_id == user.id else None


def save(db: Session, user: User, template: MailTemplate | None, *, name: str, subject: str, html: str,
         shared: bool) -> MailTemplate:
    template = template or MailTemplate(user_id=user.id)
    template.name, template.subject, template.shared = name.strip(), " ".join(subject.split()), shared
    template.html = rich.clean(html)
    db.add(template)
    db.commit()
    return template


def add_file(db: Session, template: MailTemplate, filename: str, content_type: str, data: bytes) -> None:
    if sum(f.size for f in template.files) + len(data) > MAX_FILES_BYTES:
        raise TooLarge(filename)
    template.files.append(MailTemplateFile(filename=filename, content_type=content_type, size=len(data), data=data))
    db.commit()


def remove_file(db: Session, template: MailTemplate, file_id: int) -> bool:
    for item in template.files:
        if item.id == file_id:
            template.files.remove(item)
            db.commit()
            return True
    return False


def values(db: Session, user: User, recipients: str) -> dict[str, str]:
    """The fields for a window whose To field says `recipients`: the first recipient's CRM person (as
    the user may see them; none for an unknown address) and the user's own card."""
    found: dict[str, str] = {}
    addresses = [address for _name, address in getaddresses([" ".join(recipients.split())]) if "@" in address]
    if addresses:
        people = persons_for(db, addresses[:1], viewer=user).get(normalise_address(addresses[0]), [])
        if len(people) == 1:  # several persons hold the address: no guessing whose name to write
            person = people[0]
            found.update({"contact.first_name": person.first_name, "contact.last_name": person.last_name,
                          "contact.full_name": person.name, "contact.title": person.title,
                          "contact.company": person.company.name if person.company else ""})
    me = user.person
    found.update({"me.name": (me.name if me else "") or user.name, "me.title": me.title if me else "",
                  "me.phone": me.phone if me else ""})
    return found


def filled(template: MailTemplate, fields: dict[str, str]) -> tuple[str, str]:
    """The template's subject and HTML with its fields filled (the HTML's escaped)."""
    return rich.fill(template.subject, fields, escape=False).strip(), rich.fill(template.html, fields)
