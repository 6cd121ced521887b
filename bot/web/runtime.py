"""The web chat's parts for one process, as the handlers find them on the application."""

from __future__ import annotations

from dataclasses import dataclass

import jinja2
from aiohttp import web

from bot.web.config import ChatOptions
from bot.web.conversations import WebConversations
from bot.web.guards import RateGuards
from bot.web.hub import ChatHub, StaffRelay


@dataclass
class ChatRuntime:
    """Options, the conversation bridge, open pages, the live relay and the rate limits."""

    options: ChatOptions
    conversations: WebConversations
    hub: ChatHub
    relay: StaffRelay
    guards: RateGuards


RUNTIME = web.AppKey("webchat_runtime", ChatRuntime)
TEMPLATES = web.AppKey("webchat_templates", jinja2.Environment)
WIDGET_SOURCE = web.AppKey("webchat_widget_source", str)
