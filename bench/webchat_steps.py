"""The web chat's server-side work per step, in-process: CPU time through ``WebConversations``.

Each chat answers the whole flow the web benchmark's browsers answer (QR code start, language,
category, service, rating, five criteria, a typed comment, no photo, consent: 13 steps) through
the web channel's conversation bridge, its history and the database, without the WebSocket in
front of it and without the classifier. So the figure is the core, the store and the history
only, on this process's CPU clock; PostgreSQL's own CPU is not in it. A warm-up conversation
first; rounds are repeated so a change in the machine's load shows as spread.

Needs a PostgreSQL server (``PIKIR_BENCH_POSTGRES_URL``) allowed to create databases.

    uv run python -m bench.webchat_steps [--chats 200] [--concurrency 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time

from bench._common import throwaway_database
from bot.conversation import ConversationService, Outcome, Press, Translator
from bot.persistence import SqlChatHistoryStore, SqlUnits
from bot.persistence.conversation_store import StoreConfig
from bot.web.conversations import WebConversations
from bot.web.hub import ChatHub

OFFICES = ["AST-01", "AST-02", "ALA-01", "SHY-01"]
COMMENT = "Очередь была долгая, почти час"


async def conversation(chat: WebConversations, key: str, rng: random.Random) -> int:
    """One citizen's whole feedback; the number of steps it took."""
    steps = 0

    async def press(outcome: Outcome, index: int) -> Outcome:
        nonlocal steps
        steps += 1
        buttons = [button.data for row in outcome.replies[-1].buttons for button in row]
        return await chat.handle(key, Press(buttons[index]), hint=None)

    outcome = await chat.start(key, rng.choice(OFFICES), None)
    steps += 1
    outcome = await press(outcome, rng.randrange(3))  # kk / ru / en
    outcome = await press(outcome, 0)  # the first category
    outcome = await press(outcome, 0)  # the first service
    outcome = await press(outcome, rng.choice([2, 3, 4]))  # rating 3-5
    for _ in range(5):
        outcome = await press(outcome, rng.randrange(3))  # yes / no / skip
    outcome = await chat.say(key, COMMENT, None)
    steps += 1
    outcome = await press(outcome, 0)  # no photo
    outcome = await press(outcome, rng.randrange(2))  # consent yes / no
    if outcome.submitted_ref is None:
        raise RuntimeError(f"no receipt for {key}: {outcome}")
    return steps


async def timed_round(
    chat: WebConversations, chats: int, concurrency: int, round_number: int
) -> tuple[int, float, float]:
    """``chats`` conversations, ``concurrency`` at a time: steps, CPU and wall seconds."""
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> int:
        async with gate:
            key = f"chat-{round_number}-{index}"
            return await conversation(chat, key, random.Random(index))

    cpu, wall = time.process_time(), time.perf_counter()
    steps = sum(await asyncio.gather(*(one(i) for i in range(chats))))
    return steps, time.process_time() - cpu, time.perf_counter() - wall


async def main() -> None:
    """Run the rounds and print CPU per step and conversations per second for each."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    async with throwaway_database("postgresql", pool_size=10) as database:
        units = SqlUnits(database.sessions, StoreConfig(secret_key=b"bench" * 8))
        service = ConversationService(units, Translator.load())
        chat = WebConversations(service, SqlChatHistoryStore(database.sessions), ChatHub())
        await conversation(chat, "warm-up", random.Random(0))
        cpu_per_step = []
        for round_number in range(args.rounds):
            steps, cpu, wall = await timed_round(chat, args.chats, args.concurrency, round_number)
            cpu_per_step.append(cpu / steps * 1000)
            print(
                f"round {round_number + 1}: {args.chats} conversations, {steps} steps, "
                f"CPU {cpu_per_step[-1]:.3f} ms per step, {args.chats / wall:.1f} "
                f"conversations/s, load average {os.getloadavg()[0]:.2f}",
                flush=True,
            )
        print(f"median CPU per step: {statistics.median(cpu_per_step):.3f} ms")


if __name__ == "__main__":
    asyncio.run(main())
