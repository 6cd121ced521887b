"""Typed keys of what the staff panel keeps on its application."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from argon2 import PasswordHasher

from admin.config import PanelConfig
from admin.counts_cache import CountsCache
from admin.explain import TagExplainer
from admin.i18n import Catalogs
from storage.database import Database

DATABASE = web.AppKey("admin.database", Database)
CONFIG = web.AppKey("admin.config", PanelConfig)
HASHER = web.AppKey("admin.hasher", PasswordHasher)
CATALOGS = web.AppKey("admin.catalogs", Catalogs)
COUNTS = web.AppKey("admin.counts", CountsCache)
EXPLAINER: web.AppKey[TagExplainer | None] = web.AppKey("admin.explainer")
CLOCK: web.AppKey[Callable[[], datetime]] = web.AppKey("admin.clock")
# Called after offices or services are saved, so a cache of them elsewhere in the process
# (the conversation's) shows the change at once.
REFERENCE_CHANGED: web.AppKey[Callable[[], None]] = web.AppKey("admin.reference_changed")

# The bytes of a photo a channel keeps under its own id (a Telegram file id); None if they
# cannot be had. Set when the service has a channel that keeps photos so.
ChannelPhotos = Callable[[str], Awaitable[bytes | None]]
CHANNEL_PHOTOS: web.AppKey[ChannelPhotos | None] = web.AppKey("admin.channel_photos")

Extension = Callable[[web.Application], Any]
