"""An engine server run inside the test process, for tests that build it with options
``softcut serve`` does not expose."""

from __future__ import annotations


class ServerThread:
    """An EngineServer running in this process, on its own thread and event loop; ``port`` is
    where it listens (loopback, OS-chosen). For tests that build the server with options
    ``softcut serve`` does not expose (a chosen token, pairing, an outbox folder)."""

    def __init__(self, server) -> None:
        import asyncio
        import threading

        self.server = server
        self.loop = asyncio.new_event_loop()
        self.stop_future = self.loop.create_future()
        ready = self.loop.create_future()
        self.thread = threading.Thread(
            target=self.loop.run_until_complete, args=(server.run(self.stop_future, ready=ready),), daemon=True)
        self.thread.start()
        self.port = asyncio.run_coroutine_threadsafe(asyncio.wait_for(asyncio.shield(ready), 30), self.loop).result(35)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(lambda: self.stop_future.done() or self.stop_future.set_result(None))
        self.thread.join(30)
        self.loop.close()
