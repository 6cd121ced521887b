"""Delivering outbox messages (staff replies, alerts, notices) through per-channel senders."""

from bot.outbox.limiter import RateLimiter
from bot.outbox.ports import DeliveryRefused, OutgoingMessage, RetryLater, Sender, SendSlots
from bot.outbox.worker import OutboxWorker

__all__ = [
    "DeliveryRefused",
    "OutboxWorker",
    "OutgoingMessage",
    "RateLimiter",
    "RetryLater",
    "SendSlots",
    "Sender",
]
