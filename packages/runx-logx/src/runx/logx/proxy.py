"""`logx.tensorboard`: a stand-in for a SummaryWriter that forwards calls only when TensorBoard is on."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional

if TYPE_CHECKING:
    from runx.logx.tensorboard import BackgroundWriter

__all__ = ["WriterProxy"]


def _ignore(*args: Any, **kwargs: Any) -> None:
    return None


_NO_EVENT_IN_MAIN_FILE = frozenset(("add_hparams", "add_embedding", "add_scalars"))
"""SummaryWriter methods that write files of their own (a subdirectory, a projector config), not an event of its file."""


def _never() -> bool:
    return False


class WriterProxy:
    """`logx.tensorboard`: forwards any SummaryWriter method on rank 0 with TensorBoard on, else does nothing.

    `eager()` says whether a direct call returns only once its event is in the file; otherwise
    `after` runs after it (logx asks the thread to flush soon). Queued scalars reach logx's event
    file within ~0.1 s without either.
    """

    def __init__(self, writer: Optional[BackgroundWriter], after: Callable[[], None],
                 eager: Callable[[], bool] = _never) -> None:
        self._writer = writer
        self._after = after
        self._eager = eager

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if self._writer is None:
            return _ignore
        bg = self._writer
        if name in ("add_scalar", "flush"):
            return getattr(bg, name)
        if name == "add_scalars":
            def call(*args: Any, **kwargs: Any) -> None:
                bg.add_scalars(*args, **kwargs)
                self._after()

            return call
        attr = getattr(bg.writer, name)
        if not callable(attr):
            return attr

        waits = name.startswith("add_") and name not in _NO_EVENT_IN_MAIN_FILE

        def direct(*args: Any, **kwargs: Any) -> Any:
            eager = waits and self._eager()
            result = bg.call_waiting(eager, name, args, kwargs)
            if not eager:
                self._after()
            return result

        return direct
