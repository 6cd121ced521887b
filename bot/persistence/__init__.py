"""The database side of the conversation core's ports (SQLAlchemy, through ``storage``)."""

from bot.persistence.chat_history import SqlChatHistoryStore
from bot.persistence.conversation_store import SqlUnits, pseudonym

__all__ = ["SqlChatHistoryStore", "SqlUnits", "pseudonym"]
