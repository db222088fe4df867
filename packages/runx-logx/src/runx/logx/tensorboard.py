"""TensorBoard writing: tensorboardX loaded on first use, writes forwarded only on rank 0."""
from __future__ import annotations

from typing import Any, Callable, Optional

__all__ = ["open_writer", "WriterProxy"]


def open_writer(logdir: str) -> Any:
    """A tensorboardX SummaryWriter for `logdir` (flushed by its own thread every second)."""
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError("logx tensorboard=True needs tensorboardX: pip install 'runx-logx[tensorboard]'") from None
    return SummaryWriter(logdir=logdir, flush_secs=1)


def _ignore(*args: Any, **kwargs: Any) -> None:
    return None


class WriterProxy:
    """Forwards any SummaryWriter method when enabled (calling `after` once per call); else does nothing."""

    def __init__(self, writer: Optional[Any], after: Callable[[], None]) -> None:
        self._writer = writer
        self._after = after

    def __getattr__(self, name: str) -> Any:
        if self._writer is None:
            return _ignore
        method = getattr(self._writer, name)
        if not callable(method):
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            self._after()
            return result

        return call


class BackgroundWriter:
    """A SummaryWriter fed from a queue by a daemon thread, so logging calls return at once.

    Events reach disk within about two seconds (the writer's own one-second flush plus the hand-off).
    """

    def __init__(self, logdir: str) -> None:
        import queue
        import threading

        self._writer = open_writer(logdir)
        self._queue: "queue.SimpleQueue" = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._drain, name="logx-tensorboard", daemon=True)
        self._thread.start()

    def enqueue(self, method: str, args: tuple, kwargs: dict) -> None:
        """Hand one SummaryWriter call to the writer thread."""
        self._queue.put((method, args, kwargs))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.enqueue(name, args, kwargs)

    def flush_soon(self) -> None:
        """Ask the writer thread to flush once it has written what is queued."""
        self._queue.put(("flush", (), {}))

    def _drain(self) -> None:
        while True:
            method, args, kwargs = self._queue.get()
            if method is None:
                return
            if method == "flush" and not self._queue.empty():
                continue
            try:
                getattr(self._writer, method)(*args, **kwargs)
            except Exception as err:  # a bad value must not kill the writer thread
                print(f"logx: tensorboard {method} failed: {err}", file=__import__("sys").stderr)

    def close(self) -> None:
        """Write everything queued, flush and close the event file."""
        self._queue.put((None, (), {}))
        self._thread.join()
        self._writer.flush()
        self._writer.close()
