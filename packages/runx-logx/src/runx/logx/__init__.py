"""runx logx: in-training logging of messages, metrics, TensorBoard and checkpoints.

`from runx.logx import logx` gives the shared object; `LogX` is the class. Importing this package
loads no third-party module: tensorboardX and torch load on first use.
"""
from runx.logx._logx import LogX
from runx.logx.errors import LogxError, TrialPruned

__all__ = ["logx", "LogX", "LogxError", "TrialPruned"]

logx = LogX()
