"""Text from clients: ids, keys, names and free text, refused rather than repaired.

Every piece of text has a documented length limit and refuses control characters (NUL,
escape sequences, line breaks in ids). Free text (a reason, a note) may hold line breaks
and tabs. E-mail addresses are checked by `email-validator`, without DNS."""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

from app.domain.errors import DomainError, ErrorCode

#: Length limits, in characters.
ID_LENGTH = 200  # externalId, orderId, idempotencyKey, references, SKUs
NAME_LENGTH = 200  # displayName, activity names
EMAIL_LENGTH = 254  # RFC 5321's path limit, less the angle brackets
FREE_TEXT_LENGTH = 500  # reasons and notes

_FREE_TEXT_CONTROLS = frozenset("\n\t")


def _control(value: str, allowed: frozenset[str] = frozenset()) -> str | None:
    for char in value:
        if char not in allowed and (
            unicodedata.category(char) in ("Cc", "Cs") or char in "\u2028\u2029"
        ):
            return char
    return None


def _fail(field: str, message: str) -> DomainError:
    return DomainError(ErrorCode.INVALID_INPUT, f"{field} {message}", field)


def check_text(
    value: str,
    field: str,
    *,
    limit: int = ID_LENGTH,
    free_text: bool = False,
    required: bool = True,
) -> str:
    """`value` as given, or INVALID_INPUT naming `field`: empty (when required), longer
    than `limit`, or holding a control character (line breaks and tabs only in free text)."""
    if required and not value.strip():
        raise _fail(field, f"must be 1 to {limit} characters")
    if len(value) > limit:
        raise _fail(field, f"must be at most {limit} characters (got {len(value)})")
    found = _control(value, _FREE_TEXT_CONTROLS if free_text else frozenset())
    if found is not None:
        raise _fail(field, f"may not contain control characters (found U+{ord(found):04X})")
    return value


def check_email(value: str, field: str = "email") -> str:
    """The address, normalised (the domain in lower case), or INVALID_INPUT."""
    check_text(value, field, limit=EMAIL_LENGTH)
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        raise _fail(field, f"is not a valid e-mail address: {error}") from None
    return str(checked.normalized)
