"""Coordination in Redis: every worker on the same Redis shares the locks and the limits.

Each primitive is one Lua script, so a check and its update are atomic however many workers
ask at once, and every script reads the clock with Redis's ``TIME`` (the workers' clocks do
not matter). Keys carry a prefix (``PIKIR_REDIS__PREFIX``) and expire when idle.

When Redis cannot be reached the calls raise (fail closed): a Telegram update then fails and
is redelivered by Telegram, a web chat frame is answered "try again", an outbox round is
retried; nothing is handled without its lock or past its limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
from collections.abc import AsyncIterator

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.conversation import Verdict
from bot.coordination.ports import Coordination, LimitSettings
from bot.outbox.limiter import send_window, slot_spacing

log = structlog.get_logger("pikir.coordination")

# Milliseconds since the epoch from the server's clock.
_NOW_MS = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"
_NOW_S = "local t = redis.call('TIME') local now = t[1] + t[2] / 1000000\n"

# KEYS: queue (zset), registered (hash), seen (hash), lock. ARGV: member, score, token,
# window ms, ttl ms, stale ms. Returns 1 (held), 0 (wait), or -n (wait n ms for the window).
_ACQUIRE = (
    _NOW_MS
    + """
local member, ttl, stale = ARGV[1], tonumber(ARGV[5]), tonumber(ARGV[6])
if redis.call('HEXISTS', KEYS[2], member) == 0 then
  redis.call('ZADD', KEYS[1], ARGV[2], member)
  redis.call('HSET', KEYS[2], member, now)
end
redis.call('HSET', KEYS[3], member, now)
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ttl + stale) end
local first = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
while first and first ~= member do
  -- a waiter that stopped asking went away: it no longer holds the others up
  local seen = tonumber(redis.call('HGET', KEYS[3], first) or '0')
  if now - seen <= stale then break end
  redis.call('ZREM', KEYS[1], first)
  redis.call('HDEL', KEYS[2], first)
  redis.call('HDEL', KEYS[3], first)
  first = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
end
if first ~= member then return 0 end
local waited = now - tonumber(redis.call('HGET', KEYS[2], member))
local window = tonumber(ARGV[4])
if waited < window then return waited - window end
if redis.call('SET', KEYS[4], ARGV[3], 'NX', 'PX', ttl) then return 1 end
return 0
"""
)

# KEYS: queue, registered, seen, lock. ARGV: member, token.
_RELEASE = """
if redis.call('GET', KEYS[4]) == ARGV[2] then redis.call('DEL', KEYS[4]) end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
"""

# KEYS: lock. ARGV: token, ttl ms. Returns 1 (extended) or 0 (no longer ours: left alone).
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

# KEYS: bucket (hash). ARGV: rate, burst. Returns 1 (token taken) or 0.
_TAKE = (
    _NOW_S
    + """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local ok = 0
if tokens >= 1 then tokens = tokens - 1 ok = 1 end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at',
  string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return ok
"""
)

# KEYS: bucket (hash). ARGV: rate, burst, cooldown. Returns 0 allow, 1 notice, 2 silent.
_FLOOD = (
    _NOW_S
    + """
local rate, burst, cooldown = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local expire = math.ceil(math.max(burst / rate, cooldown) * 1000) + 1000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'muted')
local tokens, at, muted = tonumber(state[1]) or burst, tonumber(state[2]) or now,
  tonumber(state[3])
if muted then
  if now < muted then
    redis.call('HSET', KEYS[1], 'muted', string.format('%.6f', now + cooldown))
    redis.call('PEXPIRE', KEYS[1], expire)
    return 2
  end
  -- quiet long enough: forgiven, with a full allowance
  tokens, at = burst, now
  redis.call('HDEL', KEYS[1], 'muted')
end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local verdict = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  verdict = 1
  redis.call('HSET', KEYS[1], 'muted', string.format('%.6f', now + cooldown))
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at',
  string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], expire)
return verdict
"""
)

# KEYS: global next slot, chat's next slot. ARGV: spacing, per-chat interval.
# Returns the delay in seconds (as a string: Lua numbers become integers in replies).
_RESERVE = (
    _NOW_S
    + """
local spacing, per_chat = tonumber(ARGV[1]), tonumber(ARGV[2])
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'),
  tonumber(redis.call('GET', KEYS[2]) or '0'))
redis.call('SET', KEYS[1], string.format('%.6f', slot + spacing), 'PX',
  math.ceil((slot + spacing - now) * 1000) + 1000)
redis.call('SET', KEYS[2], string.format('%.6f', slot + per_chat), 'PX',
  math.ceil((slot + per_chat - now) * 1000) + 1000)
return string.format('%.6f', slot - now)
"""
)

# KEYS: the sends made (zset: member -> ms), the chat's last send (ms). ARGV: most, window ms,
# per-chat interval ms, member. Returns "0" (counted: send now) or the seconds to wait.
_ADMIT = (
    _NOW_MS
    + """
local most, window, per_chat = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local wait = 0
if redis.call('ZCARD', KEYS[1]) >= most then
  local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
  wait = oldest + window - now
end
local last = redis.call('GET', KEYS[2])
if last then wait = math.max(wait, tonumber(last) + per_chat - now) end
if wait > 0 then return string.format('%.6f', wait / 1000) end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window + 1000)
if per_chat > 0 then redis.call('SET', KEYS[2], now, 'PX', per_chat + 1000) end
return '0'
"""
)

# KEYS: global next slot. ARGV: seconds.
_PAUSE = (
    _NOW_S
    + """
local resume = math.max(now + tonumber(ARGV[1]), tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], string.format("%.6f", resume), 'PX',
  math.ceil((resume - now) * 1000) + 1000)
return 1
"""
)

# KEYS: the address's sockets (hash: worker -> count). ARGV: ceiling, worker, ttl seconds.
_OPEN_SOCKET = """
local total = 0
for _, count in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(count) end
if total >= tonumber(ARGV[1]) then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""

_CLOSE_SOCKET = """
if redis.call('HINCRBY', KEYS[1], ARGV[1], -1) <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 1
"""


# The name of each held lock's renewal task (a dead worker's renewals stop with it).
LOCK_RENEWAL = "chat-lock-renewal"


class RedisChatLocks:
    """A lock per chat in Redis (``SET NX PX`` with a token, released by a Lua compare).

    Holders queue by ``order`` (Telegram's update id, increasing per bot): a holder waits the
    ordering ``window`` after arriving and then goes only when it is the lowest waiting, so
    two updates of one chat delivered to two workers a few ms apart are handled in id order.
    Without an order, arrival (Redis's clock) decides.

    The lock expires ``ttl`` after it was last renewed, so a dead worker's lock frees itself;
    while the block runs a watchdog renews it every third of ``ttl``, so a long update (a slow
    Telegram, a slow database) keeps its chat however long it takes.
    """

    def __init__(
        self,
        client: Redis,
        prefix: str,
        *,
        window: float = 0.0,
        ttl: float = 10.0,
        stale_after: float = 2.0,
        poll: float = 0.002,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._window_ms = int(window * 1000)
        self._ttl_ms = int(ttl * 1000)
        self._stale_ms = int(stale_after * 1000)
        self._poll = poll
        self._acquire = client.register_script(_ACQUIRE)
        self._release = client.register_script(_RELEASE)
        self._renew = client.register_script(_RENEW)

    @contextlib.asynccontextmanager
    async def hold(self, chat: str, order: int | None = None) -> AsyncIterator[None]:
        """Hold ``chat`` for the block, after every lower ``order`` waiting for it."""
        token = secrets.token_hex(8)
        member = f"{order if order is not None else 0}:{token}"
        score = order if order is not None else await self._arrival()
        base = f"{self._prefix}lock:{chat}"
        keys = [f"{base}:queue", f"{base}:registered", f"{base}:seen", base]
        watchdog: asyncio.Task[None] | None = None
        try:
            await self._wait_turn(keys, member, score, token)
            watchdog = asyncio.create_task(self._keep(base, token), name=LOCK_RENEWAL)
            yield
        finally:
            if watchdog is not None:
                watchdog.cancel()
            # Shielded: a cancelled update must still let the next one go.
            await asyncio.shield(self._release(keys=keys, args=[member, token]))

    async def _keep(self, lock: str, token: str) -> None:
        """Renew ``lock`` while it is ours; say so once if it was lost."""
        while True:
            await asyncio.sleep(self._ttl_ms / 3000)
            try:
                renewed = int(await self._renew(keys=[lock], args=[token, self._ttl_ms]))
            except (RedisError, OSError) as exc:  # the next round tries again, in time
                log.warning("lock.renewal_failed", lock=lock, error=type(exc).__name__)
                continue
            if not renewed:
                # Expired while Redis was unreachable for longer than the TTL: another
                # worker may now hold the chat. Nothing to take back; it is worth an alarm.
                log.error("lock.lost", lock=lock)
                return

    async def _arrival(self) -> float:
        seconds, micros = await self._client.time()
        return seconds * 1000 + micros / 1000

    async def _wait_turn(self, keys: list[str], member: str, score: float, token: str) -> None:
        pause = self._poll
        args: list[str | float] = [
            member,
            score,
            token,
            self._window_ms,
            self._ttl_ms,
            self._stale_ms,
        ]
        while True:
            answer = int(await self._acquire(keys=keys, args=args))
            if answer == 1:
                return
            if answer < 0:  # still inside the ordering window
                await asyncio.sleep(-answer / 1000)
                continue
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)


class RedisFlood:
    """The flood guard's bucket and mute per chat, in one Redis hash."""

    def __init__(
        self, client: Redis, prefix: str, rate: float, burst: int, cooldown: float
    ) -> None:
        self._script = client.register_script(_FLOOD)
        self._prefix = prefix
        self._args = [rate, burst, cooldown]

    async def check(self, chat: str) -> Verdict:
        """Take one token for ``chat``."""
        answer = int(await self._script(keys=[f"{self._prefix}{chat}"], args=self._args))
        return (Verdict.ALLOW, Verdict.NOTICE, Verdict.SILENT)[answer]


class RedisBuckets:
    """A token bucket per key, in Redis."""

    def __init__(self, client: Redis, prefix: str, rate: float, burst: int) -> None:
        self._script = client.register_script(_TAKE)
        self._prefix = prefix
        self._args = [rate, burst]

    async def take(self, key: str) -> bool:
        """Take one token for ``key``."""
        return bool(await self._script(keys=[f"{self._prefix}{key}"], args=self._args))


class RedisSendSlots:
    """The outbox's send slots shared by every worker: one global rate, one interval per chat."""

    def __init__(
        self, client: Redis, prefix: str, per_second: float, per_chat_interval: float
    ) -> None:
        self._reserve = client.register_script(_RESERVE)
        self._admit = client.register_script(_ADMIT)
        self._pause = client.register_script(_PAUSE)
        self._global = f"{prefix}global"
        self._sent = f"{prefix}sent"
        self._prefix = prefix
        spacing, per_chat = slot_spacing(per_second, per_chat_interval)
        self._args = [spacing, per_chat]
        most, window = send_window(per_second)
        self._admit_args = [most, int(window * 1000), int(per_chat * 1000)]
        # Members of the sends' set: unique per worker and send.
        self._sends = itertools.count()
        self._worker = secrets.token_hex(6)

    async def reserve(self, chat: str) -> float:
        """Reserve the earliest slot for ``chat``."""
        keys = [self._global, f"{self._prefix}chat:{chat}"]
        return float(await self._reserve(keys=keys, args=self._args))

    async def admit(self, chat: str) -> float:
        """Check a send to ``chat`` now against the sends every worker made."""
        keys = [self._sent, f"{self._prefix}sent:{chat}"]
        member = f"{self._worker}:{next(self._sends)}"
        return float(await self._admit(keys=keys, args=[*self._admit_args, member]))

    async def pause(self, seconds: float) -> None:
        """Send nothing for ``seconds`` from any worker."""
        await self._pause(keys=[self._global], args=[seconds])


class RedisSockets:
    """Open sockets per address, counted per worker so the sum is the address's total."""

    def __init__(self, client: Redis, prefix: str, max_per_address: int) -> None:
        self._open = client.register_script(_OPEN_SOCKET)
        self._close = client.register_script(_CLOSE_SOCKET)
        self._prefix = prefix
        self._max = max_per_address
        # One id per process: a worker that dies leaves its counts until they expire (a day).
        self._worker = secrets.token_hex(6)

    async def open(self, address: str) -> bool:
        """Count a socket of ``address`` unless it has too many across the workers."""
        keys = [f"{self._prefix}{address}"]
        return bool(await self._open(keys=keys, args=[self._max, self._worker, 86_400]))

    async def close(self, address: str) -> None:
        """Uncount a socket of ``address``."""
        await self._close(keys=[f"{self._prefix}{address}"], args=[self._worker])


# Long enough to cover two webhook deliveries of one chat a few ms apart plus the time a busy
# worker takes to reach the lock (BENCHMARKS.md, "Chat lock"); every Telegram update pays it.
ORDERING_WINDOW = 0.1


def redis_coordination(
    client: Redis, prefix: str, limits: LimitSettings, ordering_window: float = ORDERING_WINDOW
) -> Coordination:
    """Locks and limits shared by every worker on ``client``; keys start with ``prefix``."""
    return Coordination(
        name="redis",
        chat_locks=RedisChatLocks(client, f"{prefix}tg:", window=ordering_window),
        web_locks=RedisChatLocks(client, f"{prefix}web:"),
        telegram_flood=RedisFlood(
            client,
            f"{prefix}flood:tg:",
            limits.telegram.flood_per_second,
            limits.telegram.flood_burst,
            limits.flood_cooldown,
        ),
        web_flood=RedisFlood(
            client,
            f"{prefix}flood:web:",
            limits.webchat.flood_per_second,
            limits.webchat.flood_burst,
            limits.flood_cooldown,
        ),
        web_addresses=RedisBuckets(
            client, f"{prefix}ip:", limits.webchat.ip_per_second, limits.webchat.ip_burst
        ),
        web_new_chats=RedisBuckets(
            client, f"{prefix}newchat:", limits.new_chats_per_second, limits.webchat.new_chats_burst
        ),
        web_sockets=RedisSockets(client, f"{prefix}sockets:", limits.webchat.max_sockets_per_ip),
        send_slots=RedisSendSlots(
            client,
            f"{prefix}send:",
            limits.telegram.rate_per_second,
            limits.telegram.per_chat_interval,
        ),
    )
