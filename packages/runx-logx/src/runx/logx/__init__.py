"""runx logx: in-training logging of messages, metrics, TensorBoard and checkpoints.

`from runx.logx import logx` gives the shared object; `LogX` is the class. Importing this package
loads no third-party module: tensorboardX and torch load on first use. `logx` and `LogX` themselves
load on first access (PEP 562): runx and sumx import the run-directory modules of this package
(`runx.logx.rundir`) and never the logger, its metrics writer or its checkpoints. Type checkers read
the names from `__init__.pyi`.
"""
from runx.logx.errors import LogxError, TrialPruned

__all__ = ["logx", "LogX", "LogxError", "TrialPruned"]


def __getattr__(name: str) -> object:
    if name in ("logx", "LogX"):
        from runx.logx import _logx

        globals().update(logx=_logx.logx, LogX=_logx.LogX)
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
