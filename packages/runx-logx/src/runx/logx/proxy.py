"""`logx.tensorboard`: a stand-in for a SummaryWriter that forwards calls only when TensorBoard is on; and
TensorBoardSink, what logx asks of its TensorBoard writer.

The writer itself (runx.logx.tensorboard.BackgroundWriter) loads only with tensorboard=True; logx and this
proxy know it through TensorBoardSink, so that a script without TensorBoard imports neither it nor
`typing` (see runx.logx.rundir.codec).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping

__all__ = ["WriterProxy", "TensorBoardSink"]


class TensorBoardSink(ABC):
    """logx's TensorBoard writer as logx and WriterProxy use it (runx.logx.tensorboard.BackgroundWriter)."""

    @property
    @abstractmethod
    def writer(self) -> object:
        """The tensorboardX SummaryWriter every call but logx's scalars goes to (opened on first use)."""

    @abstractmethod
    def metrics(self, phase: str, values: Mapping[str, float], step: int | None) -> None:
        """Queue one metric() call's values as `<phase>/<name>` scalars of logx's own event file."""

    @abstractmethod
    def add_scalar(self, tag: str, scalar_value: object, global_step: int | None = None,
                   walltime: float | None = None, **kwargs: object) -> None:
        """SummaryWriter.add_scalar: a plain scalar into logx's event file, anything else to the SummaryWriter."""

    @abstractmethod
    def add_scalars(self, main_tag: str, tag_scalar_dict: dict[str, object], global_step: int | None = None,
                    walltime: float | None = None) -> None:
        """SummaryWriter.add_scalars."""

    @abstractmethod
    def add_summary(self, summary: object, walltime: float | None = None) -> None:
        """Write a Summary protobuf (the HParams dashboard's session start and end)."""

    @abstractmethod
    def call_waiting(self, wait: bool, method: str, args: tuple[object, ...], kwargs: dict[str, object]) -> object:
        """Call a SummaryWriter method; with `wait`, return once its event is in the file."""

    @abstractmethod
    def flush(self) -> None:
        """Write everything queued now."""

    @abstractmethod
    def flush_soon(self) -> None:
        """Have the background thread write what is queued at its next wake-up."""

    @abstractmethod
    def before_fork(self) -> None:
        """Close the SummaryWriter before the process forks (the next call opens a new one)."""

    @abstractmethod
    def close(self) -> None:
        """Write everything and close the event files."""

    @abstractmethod
    def abandon(self) -> None:
        """In a forked child: drop the parent's queued events, write nothing."""


def _ignore(*args: object, **kwargs: object) -> None:
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

    def __init__(self, writer: TensorBoardSink | None, after: Callable[[], None],
                 eager: Callable[[], bool] = _never) -> None:
        self._writer = writer
        self._after = after
        self._eager = eager

    def __getattr__(self, name: str) -> Callable[..., object]:
        if name.startswith("__"):
            raise AttributeError(name)
        if self._writer is None:
            return _ignore
        bg = self._writer
        if name in ("add_scalar", "flush"):
            return getattr(bg, name)
        if name == "add_scalars":
            def call(main_tag: str, tag_scalar_dict: dict[str, object], global_step: int | None = None,
                     walltime: float | None = None) -> None:
                bg.add_scalars(main_tag, tag_scalar_dict, global_step, walltime)
                self._after()

            return call
        attr = getattr(bg.writer, name)
        if not callable(attr):
            return attr  # a SummaryWriter attribute that is no method, as it is

        waits = name.startswith("add_") and name not in _NO_EVENT_IN_MAIN_FILE

        def direct(*args: object, **kwargs: object) -> object:
            eager = waits and self._eager()
            result = bg.call_waiting(eager, name, args, kwargs)
            if not eager:
                self._after()
            return result

        return direct
