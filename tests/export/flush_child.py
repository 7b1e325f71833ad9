"""A child process for the shutdown tests: an agent process instrumented for Langfuse at a
receiver, with turns queued, that calls ``aflush(T)`` and then exits.

Run: python -m tests.export.flush_child TURNS_PICKLE COUNT TIMEOUT
Prints the wall-clock time just before ``aflush``, and when it returned with what.
"""

from __future__ import annotations

import asyncio
import dataclasses
import pickle
import sys
import time
from pathlib import Path


async def main(turns_file: str, count: int, timeout: float) -> None:
    from livekit.agents import AgentSession

    import turnscope

    turns = pickle.loads(Path(turns_file).read_bytes())  # noqa: ASYNC240 - before any call
    handle = turnscope.instrument(AgentSession())
    for n in range(count):
        turn = dataclasses.replace(
            turns[n % len(turns)], call_id=handle.context.call_id, index=n + 1
        )
        handle._emit_turn(turn)  # what the recorder hands over when a turn ends
    print(f"flushing {time.time()!r}", flush=True)
    delivered = await handle.aflush(timeout=timeout)
    print(f"returned {time.time()!r} {delivered}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3])))
