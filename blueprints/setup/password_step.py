"""A password the server refused is said on the password step, beside the field, where the user can
type it again; Advanced settings opens only when the servers were not found or refused to talk."""

from __future__ import annotations

from mailcore import errors
from mailcore.connect import CheckResult

LOGIN_REFUSALS = (errors.AuthenticationFailed, errors.ProviderAlert)


def only_the_password(result: CheckResult) -> bool:
    """Every side that failed, failed at the login: the servers answered, the password did not do."""
    failed = [side for side in (result.incoming, result.outgoing) if side is not None]
    return bool(failed) and all(isinstance(side, LOGIN_REFUSALS) for side in failed)


def wrong_password_step(form, detection, password_step):
    """The password step again, with the server's refusal beside the password field."""
    def answer(explanation):
        form.password.errors = [explanation.message]
        return password_step(form, detection, 422, refused=explanation)

    return answer
