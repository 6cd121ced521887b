"""The device cookie: a browser where a staff member has logged in before.

After a successful login the browser gets a long-lived cookie, signed with a key derived from
the installation's secret, naming the account and a random device id. The lockout counts that
browser's failures apart from everyone else's and does not apply the account-wide lock to it:
failures from elsewhere cannot lock the staff member out of their own browser.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

from aiohttp import web
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from admin.config import PanelConfig

DEVICE_COOKIE = "pikir_device"
DEVICE_COOKIE_AGE = timedelta(days=365)


def _key(config: PanelConfig) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"pikir staff device cookie"
    ).derive(config.secret_key)


def _mac(config: PanelConfig, staff_id: int, device: str) -> str:
    digest = hmac.new(_key(config), f"{staff_id}:{device}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def remember_device(response: web.StreamResponse, config: PanelConfig, staff_id: int) -> None:
    """Give the browser a device cookie for ``staff_id``."""
    device = secrets.token_urlsafe(16)
    response.set_cookie(
        DEVICE_COOKIE,
        f"{staff_id}:{device}:{_mac(config, staff_id, device)}",
        max_age=int(DEVICE_COOKIE_AGE.total_seconds()),
        path="/admin",
        httponly=True,
        samesite="Strict",
        secure=config.secure_cookies,
    )


def known_device(request: web.Request, config: PanelConfig, staff_id: int) -> str | None:
    """The device id if this browser's cookie was issued for ``staff_id`` here, else None."""
    value = request.cookies.get(DEVICE_COOKIE, "")
    parts = value.split(":")
    if len(parts) != 3 or parts[0] != str(staff_id) or not 0 < len(parts[1]) <= 64:
        return None
    expected = _mac(config, staff_id, parts[1])
    return parts[1] if hmac.compare_digest(expected.encode(), parts[2].encode()) else None
