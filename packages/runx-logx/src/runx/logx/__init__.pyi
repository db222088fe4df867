# The names runx/logx/__init__.py provides, `logx` and `LogX` on first access (PEP 562).
from runx.logx._logx import LogX as LogX
from runx.logx.errors import LogxError as LogxError
from runx.logx.errors import TrialPruned as TrialPruned

__all__ = ["logx", "LogX", "LogxError", "TrialPruned"]

logx: LogX
