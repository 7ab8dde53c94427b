"""The CRM's persons and companies as mail sees them: who an address belongs to (people.py),
which domains say nothing about a company (freemail.py), and vCard and CSV import and export
(transfer.py). A CRM user's own contact card is a person too (User.person)."""
