"""Login lockout that throttles the attacker, not the victim.

Failures are counted per login and *where they come from*: the client address, or — for a
browser holding a device cookie for that account (:mod:`admin.device`) — that browser. The
first ``max_failures`` cost nothing; each one after locks that pair for a delay that doubles
(``first_delay``, twice that, … at most ``longest_delay``). So a guesser at one address slows
down, while the same account from another address, and other accounts behind the same address
(a whole office behind one NAT), are untouched.

Across all addresses an account is locked for ``longest_delay`` only at a much higher bar,
``max_failures_per_account``; even then a browser with the account's device cookie is not
locked out. Counts are forgotten after ``forget_after`` without a failure, and every count is
one atomic statement, so simultaneous failures each count.

A login that does not exist is counted exactly like one that does (under a hash of the typed
name), so the answers never tell which logins exist.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.models import StaffUser
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class LockoutPolicy:
    """How many failures lock what, and for how long."""

    max_failures: int
    first_delay: timedelta
    longest_delay: timedelta
    max_failures_per_account: int
    forget_after: timedelta = timedelta(days=1)

    def delay(self, failures: int) -> timedelta | None:
        """How long a pair is locked after its ``failures``-th failure (None: not locked)."""
        if failures < self.max_failures:
            return None
        doublings = min(failures - self.max_failures, 30)
        return min(self.longest_delay, self.first_delay * 2**doublings)


@dataclass(frozen=True)
class Attempt:
    """Who tries to log in, from where."""

    login: str
    address: str
    device: str | None = None  # the id in a valid device cookie for this account


@dataclass(frozen=True)
class Lock:
    """A lock set by a failure: of the login at one place (``pair``) or of the ``account``."""

    scope: str
    until: datetime
    failures: int


class LoginGuard:
    """Counts failed logins in one unit of work and says whether a login may be tried."""

    def __init__(self, uow: UnitOfWork, policy: LockoutPolicy, now: datetime) -> None:
        self.uow = uow
        self.policy = policy
        self.now = now

    async def locked_until(self, attempt: Attempt, account: StaffUser | None) -> datetime | None:
        """Until when this attempt is refused, or None if it may be tried now."""
        pair = await self.uow.staff.throttle(_pair_key(attempt))
        if pair is not None and _still_locked(pair.locked_until, self.now):
            return pair.locked_until
        if attempt.device is not None:
            return None  # a browser the account logged in from: not locked by others
        if account is not None:
            return account.locked_until if _still_locked(account.locked_until, self.now) else None
        row = await self.uow.staff.throttle(_login_key(attempt.login))
        if row is not None and _still_locked(row.locked_until, self.now):
            return row.locked_until
        return None

    async def failed(self, attempt: Attempt, account: StaffUser | None) -> list[Lock]:
        """Count one failure for the pair and for the account; the locks it sets."""
        staff = self.uow.staff
        forget_before = self.now - self.policy.forget_after
        locks = []
        pair_key = _pair_key(attempt)
        failures = await staff.count_failure(pair_key, self.now, forget_before)
        delay = self.policy.delay(failures)
        if delay is not None:
            await staff.lock_throttle(pair_key, self.now + delay)
            locks.append(Lock("pair", self.now + delay, failures))
        login_key = _login_key(attempt.login)
        total = await staff.count_failure(login_key, self.now, forget_before)
        if total >= self.policy.max_failures_per_account:
            until = self.now + self.policy.longest_delay
            await staff.lock_throttle(login_key, until, reset=True)
            if account is not None:
                account.locked_until = until
            locks.append(Lock("account", until, total))
        return locks

    async def succeeded(self, attempt: Attempt, account: StaffUser) -> None:
        """Forget this pair's failures after a successful login (the account's lock stays)."""
        await self.uow.staff.forget_throttle(_pair_key(attempt))
        account.failed_logins = 0


def _still_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and locked_until > now


def _pair_key(attempt: Attempt) -> str:
    place = f"device:{attempt.device}" if attempt.device else f"ip:{attempt.address}"
    return "pair:" + _digest(f"{_normal(attempt.login)}\0{place}")


def _login_key(login: str) -> str:
    return "login:" + _digest(_normal(login))


def _normal(login: str) -> str:
    return login.strip().lower()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
