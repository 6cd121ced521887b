"""The web chat: the citizen's conversation in any browser, as an aiohttp sub-app at ``/chat``.

The page (``page``) talks to the server over a WebSocket (``socket``); photos go up over HTTP
(``uploads``). Every event goes through the same conversation core as the Telegram bot
(``conversations``); the chat's history is kept so a reload shows it, and staff replies from
the outbox (``sender``) reach an open page live (``hub``). The history is reached only through
the core's ports (``ChatHistory``, ``ChatHistoryStore``); the database behind them is handed in
by the composition root.
"""
