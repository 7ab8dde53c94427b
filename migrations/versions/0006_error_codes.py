"""an account's last error is stored as a stable code, not a Python class name

Revision ID: 0006
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# the class names stored before, and the codes that replace them (mailcore/errors.py)
CODES = {
    'HostNotFound': 'host-not-found',
    'HostNotAllowed': 'host-not-allowed',
    'PortNotAllowed': 'port-not-allowed',
    'ConnectionRefused': 'connection-refused',
    'ConnectionTimedOut': 'timed-out',
    'TlsCertificateUntrusted': 'certificate-untrusted',
    'TlsCertificateWrongName': 'certificate-wrong-name',
    'TlsFailed': 'tls-failed',
    'StartTlsNotOffered': 'starttls-not-offered',
    'AuthenticationFailed': 'authentication-failed',
    'ProviderAlert': 'provider-alert',
    'Pop3Only': 'pop3-only',
    'WrongProtocol': 'wrong-protocol',
    'ProtocolFailure': 'protocol-failure',
    'NoInbox': 'no-inbox',
    'RateLimited': 'rate-limited',
    'RecipientRefused': 'recipient-refused',
}

accounts = sa.table('accounts', sa.column('last_error_kind', sa.String))


def upgrade() -> None:
    for name, code in CODES.items():
        op.execute(accounts.update().where(accounts.c.last_error_kind == name).values(last_error_kind=code))


def downgrade() -> None:
    for name, code in CODES.items():
        op.execute(accounts.update().where(accounts.c.last_error_kind == code).values(last_error_kind=name))
