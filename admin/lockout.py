"""Login lockout: too many failed logins lock the account, and a client address, for a while.

A login that does not exist is counted exactly like one that does (under a hash of the typed
name), so the answers never tell which logins exist. The address lock is looser than the account
lock because a whole office may share one address.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.models import LoginThrottle, StaffUser
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class LockoutPolicy:
    """How many failures lock what, and for how long."""

    max_failures: int
    max_failures_per_ip: int
    lockout: timedelta


class LoginGuard:
    """Counts failed logins in one unit of work and says whether a login may be tried."""

    def __init__(self, uow: UnitOfWork, policy: LockoutPolicy, now: datetime) -> None:
        self.uow = uow
        self.policy = policy
        self.now = now

    async def locked(self, login: str, ip: str, account: StaffUser | None) -> bool:
        """True if the account (known or not) or the client address is locked now."""
        ip_row = await self.uow.staff.throttle(_ip_key(ip))
        if ip_row is not None and _still_locked(ip_row.locked_until, self.now):
            return True
        if account is not None:
            return _still_locked(account.locked_until, self.now)
        login_row = await self.uow.staff.throttle(_login_key(login))
        return login_row is not None and _still_locked(login_row.locked_until, self.now)

    async def failed(self, login: str, ip: str, account: StaffUser | None) -> None:
        """Count one failed attempt against the account (or the unknown login) and the address."""
        ip_row = await self.uow.staff.throttle_counter(_ip_key(ip))
        self._count(ip_row, self.policy.max_failures_per_ip)
        if account is not None:
            account.failed_logins = (account.failed_logins or 0) + 1
            if account.failed_logins >= self.policy.max_failures:
                account.locked_until = self.now + self.policy.lockout
                account.failed_logins = 0
        else:
            login_row = await self.uow.staff.throttle_counter(_login_key(login))
            self._count(login_row, self.policy.max_failures)

    def succeeded(self, account: StaffUser) -> None:
        """Forget the account's failures after a successful login."""
        account.failed_logins = 0
        account.locked_until = None

    def _count(self, row: LoginThrottle, limit: int) -> None:
        # Failures older than one lockout period no longer count.
        if row.last_failure_at is not None and self.now - row.last_failure_at > self.policy.lockout:
            row.failures = 0
        row.failures = (row.failures or 0) + 1
        row.last_failure_at = self.now
        if row.failures >= limit:
            row.locked_until = self.now + self.policy.lockout
            row.failures = 0


def _still_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and locked_until > now


def _ip_key(ip: str) -> str:
    return "ip:" + ip[:90]


def _login_key(login: str) -> str:
    digest = hashlib.sha256(login.strip().lower().encode("utf-8")).hexdigest()
    return "login:" + digest
