"""Each Redis primitive against the real server, with two clients standing for two workers."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from structlog.testing import capture_logs

from bot.conversation import Verdict
from bot.coordination.redis_backend import (
    LOCK_RENEWAL,
    RedisBuckets,
    RedisChatLocks,
    RedisFlood,
    RedisSendSlots,
    RedisSockets,
)
from bot.coordination.setup import open_redis, redis_problem

MakeClient = Callable[[], Redis]


async def test_a_chat_lock_admits_one_holder_at_a_time_across_workers(
    redis_clients: MakeClient, prefix: str
) -> None:
    workers = [RedisChatLocks(redis_clients(), prefix) for _ in range(2)]
    inside = 0
    most_inside = 0
    finished = 0

    async def update(locks: RedisChatLocks) -> None:
        nonlocal inside, most_inside, finished
        async with locks.hold("chat-1"):
            inside += 1
            most_inside = max(most_inside, inside)
            await asyncio.sleep(0.002)
            inside -= 1
            finished += 1

    await asyncio.gather(*(update(workers[i % 2]) for i in range(40)))
    assert finished == 40
    assert most_inside == 1


async def test_other_chats_are_not_held_up(redis_clients: MakeClient, prefix: str) -> None:
    locks = RedisChatLocks(redis_clients(), prefix)
    async with locks.hold("chat-1"):
        # Would wait for ever (well, the 60 s lock time) if chats shared a lock.
        await asyncio.wait_for(_enter_and_leave(locks, "chat-2"), timeout=2)


async def _enter_and_leave(locks: RedisChatLocks, chat: str) -> None:
    async with locks.hold(chat):
        pass


async def test_a_later_update_that_arrives_first_waits_for_the_earlier_one(
    redis_clients: MakeClient, prefix: str
) -> None:
    first, second = (RedisChatLocks(redis_clients(), prefix, window=0.03) for _ in range(2))
    handled: list[int] = []

    async def update(locks: RedisChatLocks, update_id: int, delay: float) -> None:
        await asyncio.sleep(delay)
        async with locks.hold("chat-1", update_id):
            handled.append(update_id)

    for gap in (0.0, 0.002, 0.005, 0.02):
        handled.clear()
        base = 1000 + int(gap * 1000) * 10
        # The later id reaches its worker first; the earlier one arrives ``gap`` after.
        await asyncio.gather(update(first, base + 1, 0), update(second, base, gap))
        assert handled == [base, base + 1], gap


async def test_a_cancelled_waiter_does_not_block_the_chat(
    redis_clients: MakeClient, prefix: str
) -> None:
    locks = RedisChatLocks(redis_clients(), prefix)
    async with locks.hold("chat-1", 1):
        waiter = asyncio.create_task(_enter_and_leave_ordered(locks, 2))
        await asyncio.sleep(0.05)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
    await asyncio.wait_for(_enter_and_leave_ordered(locks, 3), timeout=2)


async def _enter_and_leave_ordered(locks: RedisChatLocks, update_id: int) -> None:
    async with locks.hold("chat-1", update_id):
        pass


async def test_a_dead_workers_lock_expires_and_its_place_in_line_is_given_up(
    redis_clients: MakeClient, prefix: str
) -> None:
    dying = RedisChatLocks(redis_clients(), prefix, ttl=0.3, stale_after=0.2)
    # Entered and never left: what a killed worker leaves behind. Its tasks die with it, so
    # it no longer renews the lock either.
    abandoned = dying.hold("chat-1", 1)  # kept referenced: never finalised, never released
    await abandoned.__aenter__()
    _stop_renewals()  # as the worker's death stops them
    survivor = RedisChatLocks(redis_clients(), prefix, ttl=0.3, stale_after=0.2)
    started = time.monotonic()
    await asyncio.wait_for(_enter_and_leave_ordered(survivor, 2), timeout=3)
    assert time.monotonic() - started >= 0.25  # it did wait for the lock to expire
    assert abandoned is not None


def _stop_renewals() -> None:
    for task in asyncio.all_tasks():
        if task.get_name() == LOCK_RENEWAL:
            task.cancel()


async def test_a_lock_held_past_its_ttl_is_renewed_and_keeps_the_chat(
    redis_clients: MakeClient, prefix: str
) -> None:
    slow, quick = (
        RedisChatLocks(redis_clients(), prefix, ttl=0.3, stale_after=0.2) for _ in range(2)
    )
    events: list[str] = []

    async def slow_update() -> None:
        async with slow.hold("chat-1", 1):
            events.append("slow in")
            await asyncio.sleep(1.2)  # four times the lock's TTL
            events.append("slow out")

    async def quick_update() -> None:
        await asyncio.sleep(0.05)
        async with quick.hold("chat-1", 2):
            events.append("quick in")

    await asyncio.gather(slow_update(), quick_update())
    assert events == ["slow in", "slow out", "quick in"]


async def test_a_renewal_leaves_a_lock_it_lost_alone(
    redis_clients: MakeClient, prefix: str
) -> None:
    client = redis_clients()
    locks = RedisChatLocks(client, prefix, ttl=0.3)
    with capture_logs() as logs:
        async with locks.hold("chat-1"):
            # Expired and taken by another worker (a Redis outage longer than the TTL).
            await client.set(f"{prefix}lock:chat-1", "another-worker", px=5000)
            await asyncio.sleep(0.4)  # past a renewal
            assert await client.pttl(f"{prefix}lock:chat-1") > 4000  # not cut to our TTL
    assert await client.get(f"{prefix}lock:chat-1") == b"another-worker"  # nor released
    assert [entry["event"] for entry in logs] == ["lock.lost"]


async def test_token_buckets_hand_out_exactly_the_burst_under_concurrency(
    redis_clients: MakeClient, prefix: str
) -> None:
    workers = [RedisBuckets(redis_clients(), prefix, rate=0.001, burst=50) for _ in range(2)]
    taken = await asyncio.gather(*(workers[i % 2].take("10.0.0.1") for i in range(200)))
    assert sum(taken) == 50
    assert await workers[0].take("10.0.0.2")  # another address has its own bucket


async def test_a_bucket_refills_at_its_rate(redis_clients: MakeClient, prefix: str) -> None:
    bucket = RedisBuckets(redis_clients(), prefix, rate=20, burst=1)
    assert await bucket.take("a")
    assert not await bucket.take("a")
    await asyncio.sleep(0.08)  # 1.6 tokens' worth, capped at the burst of 1
    assert await bucket.take("a")
    assert not await bucket.take("a")


async def test_the_flood_guard_notices_once_then_stays_silent_across_workers(
    redis_clients: MakeClient, prefix: str
) -> None:
    workers = [
        RedisFlood(redis_clients(), prefix, rate=0.001, burst=3, cooldown=0.2) for _ in range(2)
    ]
    verdicts = [await workers[i % 2].check("chat-1") for i in range(6)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.NOTICE] + [Verdict.SILENT] * 2
    await asyncio.sleep(0.25)  # quiet for the cooldown: forgiven with a full allowance
    assert [await workers[1].check("chat-1") for _ in range(3)] == [Verdict.ALLOW] * 3


async def test_flood_verdicts_are_atomic_under_concurrency(
    redis_clients: MakeClient, prefix: str
) -> None:
    workers = [
        RedisFlood(redis_clients(), prefix, rate=0.001, burst=10, cooldown=5) for _ in range(2)
    ]
    verdicts = await asyncio.gather(*(workers[i % 2].check("chat-1") for i in range(100)))
    assert verdicts.count(Verdict.ALLOW) == 10
    assert verdicts.count(Verdict.NOTICE) == 1
    assert verdicts.count(Verdict.SILENT) == 89


async def test_send_slots_are_shared_by_two_limiters(
    redis_clients: MakeClient, prefix: str
) -> None:
    workers = [RedisSendSlots(redis_clients(), prefix, 10, 1.0) for _ in range(2)]
    delays = await asyncio.gather(*(workers[i % 2].reserve(f"chat-{i}") for i in range(20)))
    ordered = sorted(delays)
    # 20 slots at 10 a second from both workers together (a tenth of a second apart, with the
    # arrival margin): 0, 0.105, … 1.995 s, none shared.
    assert ordered[0] == pytest.approx(0, abs=0.05)
    assert ordered[-1] == pytest.approx(19 * 0.105, abs=0.1)
    gaps = [b - a for a, b in itertools.pairwise(ordered)]
    assert min(gaps) == pytest.approx(0.105, abs=0.02)


async def test_one_chat_gets_one_slot_per_interval_from_any_worker(
    redis_clients: MakeClient, prefix: str
) -> None:
    workers = [RedisSendSlots(redis_clients(), prefix, 1000, 1.0) for _ in range(2)]
    delays = [await workers[i % 2].reserve("chat-1") for i in range(3)]
    assert delays[0] == pytest.approx(0, abs=0.05)
    assert delays[1] == pytest.approx(1.05, abs=0.02)  # a second and the arrival margin
    assert delays[2] == pytest.approx(2.1, abs=0.02)


async def test_sends_made_are_counted_across_workers(
    redis_clients: MakeClient, prefix: str
) -> None:
    workers = [RedisSendSlots(redis_clients(), prefix, 10, 1.0) for _ in range(2)]
    waits = await asyncio.gather(*(workers[i % 2].admit(f"chat-{i}") for i in range(10)))
    assert waits == [0.0] * 10  # ten sends in a second, from both workers together
    assert await workers[0].admit("chat-10") == pytest.approx(1.05, abs=0.05)  # the eleventh
    assert await workers[1].admit("chat-0") == pytest.approx(1.05, abs=0.05)  # chat's interval


async def test_a_pause_holds_back_every_worker(redis_clients: MakeClient, prefix: str) -> None:
    workers = [RedisSendSlots(redis_clients(), prefix, 1000, 0) for _ in range(2)]
    await workers[0].pause(5)
    assert await workers[1].reserve("chat-1") == pytest.approx(5, abs=0.1)


async def test_sockets_per_address_are_counted_across_workers(
    redis_clients: MakeClient, prefix: str
) -> None:
    workers = [RedisSockets(redis_clients(), prefix, 3) for _ in range(2)]
    opened = await asyncio.gather(*(workers[i % 2].open("10.0.0.1") for i in range(5)))
    assert sum(opened) == 3
    assert not await workers[0].open("10.0.0.1")
    # Which worker got which of the three slots is up to the race; a socket closes on a worker
    # that counted one, and the room it leaves is the other worker's too.
    holders = {i % 2 for i, ok in enumerate(opened) if ok}
    closer = 1 if 1 in holders else 0
    await workers[closer].close("10.0.0.1")
    assert await workers[1 - closer].open("10.0.0.1")
    assert not await workers[closer].open("10.0.0.1")


async def test_an_unreachable_redis_fails_the_call_and_the_probe() -> None:
    client = open_redis("redis://127.0.0.1:1/0")  # nothing listens on port 1
    try:
        assert await redis_problem(client) == "unreachable (ConnectionError)"
        with pytest.raises(RedisConnectionError):
            await RedisBuckets(client, "x:", 1, 1).take("a")
        locks = RedisChatLocks(client, "x:")
        with pytest.raises(RedisConnectionError):
            async with locks.hold("chat-1"):
                pytest.fail("an update must not run without its lock")
    finally:
        await client.aclose()
