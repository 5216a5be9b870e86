"""Micro-batches from a Faust stream, each processed whole or not at all.

With a bare `async for batch in stream.take(...)` (faust-streaming 0.15.3), an exception while
processing a batch restarts the agent in place, and closing the abandoned `take()` generator
acknowledges the failed batch's events in its `finally`: the next commit moves past readings
that were never scored, so their windows (and any anomaly in them) are lost for good.
`tests/integration/streaming/test_batch_acks.py` shows both behaviours on a real broker.

`process_batches` crashes the worker instead (its supervisor restarts it), and batches with
`take_processed`, which is `Stream.take()` except that a batch's events are acknowledged only
when the body comes back for the next batch, never when the generator is closed under it.
Unacknowledged events keep the committed offset behind them, so the restarted worker gets the
batch again; the scorer's outputs and saved state make that redelivery idempotent.

Each batch passes `streams.offsets.OffsetOrder` first: an event delivered past a partition's next
offset (Faust does that around rebalances) is held back and the partition seeked back to it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import faust
from mode.utils.aiter import aiter
from mode.utils.futures import notify

from pdm.logs import get_logger
from streams.offsets import OffsetOrder, seek_back

log = get_logger(__name__)


async def take_processed(stream: faust.StreamT[Any], max_: int, within: float,
                         order: OffsetOrder | None = None) -> AsyncIterator[list[Any]]:
    # The structure follows faust.streams.Stream.take so that the background buffering keeps
    # its exact behaviour (strict max size, timer flush, passive consumption of the channel).
    s: Any = stream
    buffer: list[Any] = []
    events: list[Any] = []
    buffer_full = asyncio.Event()
    buffer_consumed = asyncio.Event()
    stream_enable_acks: bool = s.enable_acks
    buffer_consuming: asyncio.Future[None] | None = None
    channel_it = aiter(s.channel)
    order = order if order is not None else OffsetOrder.of(s.app)

    async def add_to_buffer(value: Any) -> Any:
        nonlocal buffer_consuming
        try:
            if buffer_consuming is not None:
                try:
                    await buffer_consuming
                finally:
                    buffer_consuming = None
            buffer.append(value)
            event = s.current_event
            if event is None:
                raise RuntimeError("take_processed found no current event")
            events.append(event)
            if len(buffer) >= max_:
                buffer_full.set()
                buffer_consumed.clear()
                await s.wait(buffer_consumed)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            s.log.exception("Error adding to take buffer: %r", exc)
            await s.crash(exc)
        return value

    s.enable_acks = False
    s.add_processor(add_to_buffer)
    s._enable_passive(channel_it)
    try:
        while not s.should_stop:
            await s.wait_for_stopped(buffer_full, timeout=within)
            if not buffer:
                continue
            buffer_consuming = asyncio.get_running_loop().create_future()
            processed = False
            try:
                admitted = order.admit([(event.message.tp, event.message.offset) for event in events])
                if admitted.seeks:
                    await seek_back(s.app.consumer, admitted.seeks)
                if len(admitted.keep) < len(events):  # held back: neither processed nor acknowledged
                    events[:] = [events[i] for i in admitted.keep]
                    buffer[:] = [buffer[i] for i in admitted.keep]
                if buffer:
                    yield list(buffer)
                processed = True  # the body came back for more: the batch is done
            finally:
                buffer.clear()
                if processed:
                    for event in events:
                        await s.ack(event)
                events.clear()
                notify(buffer_consuming)
                buffer_full.clear()
                buffer_consumed.set()
    finally:
        s.enable_acks = stream_enable_acks
        s._processors.remove(add_to_buffer)


async def process_batches(app: faust.App, stream: faust.StreamT[Any], max_: int, within: float,
                          process: Callable[[list[Any]], Awaitable[None]],
                          order: OffsetOrder | None = None) -> None:
    """Each batch processed whole or not at all: a failure crashes the worker, which its supervisor
    restarts, and the unacknowledged batch is redelivered. Carrying on instead (Faust restarts a
    failed agent in place) would leave the batch's offsets unacknowledged behind a moving stream:
    nothing would be committed again until the process restarted."""
    async for batch in take_processed(stream, max_, within, order):
        try:
            await process(batch)
        except Exception as exc:
            log.error("batch_failed", error=repr(exc), messages=len(batch))
            await app.crash(exc)
            raise
