"""Password hashing for staff accounts (argon2id) and one-time password generation."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256


class PasswordPolicyError(ValueError):
    """A new password does not meet the policy."""


def make_hasher() -> PasswordHasher:
    """An argon2id hasher with the library's recommended parameters."""
    return PasswordHasher()


def hash_password(hasher: PasswordHasher, password: str) -> str:
    """Check the policy and hash a new password."""
    check_policy(password)
    return hasher.hash(password)


def verify_password(hasher: PasswordHasher, stored_hash: str, password: str) -> bool:
    """True if ``password`` matches ``stored_hash``; never raises for a wrong password."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_policy(password: str) -> None:
    """Raise :class:`PasswordPolicyError` if the password is too short or too long."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"password must have at most {MAX_PASSWORD_LENGTH} characters")


def one_time_password() -> str:
    """A random password to hand to a new user, who must change it at first login."""
    return secrets.token_urlsafe(12)
