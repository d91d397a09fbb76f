"""The one event loop the Teams SDK runs on, in a thread of its own.

The SDK is asynchronous (httpx, asyncio) and the rest of Roundtable is threaded: request
threads, senders, the inbox. Every call into the SDK is handed to this loop and waited for,
so its HTTP connections live on one loop, and no thread of ours runs a loop of its own.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
BLOCKING_THREADS = 8
"""Threads for the blocking work a handler awaits (storing an answer, a database read): as
many as the request threads that can be waiting on it."""


class SdkLoop:
    """A named thread running an asyncio loop; `run` waits for a coroutine on it."""

    def __init__(self, name: str = "roundtable-teams-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self.blocking = ThreadPoolExecutor(BLOCKING_THREADS,
                                           thread_name_prefix="roundtable-teams-work")
        self.loop.set_default_executor(self.blocking)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = 60.0) -> T:
        """Run a coroutine on the loop from any other thread and return its result."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("SdkLoop.run called on the loop itself: await instead")
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.blocking.shutdown(wait=True)
        if not self._thread.is_alive():
            self.loop.close()
