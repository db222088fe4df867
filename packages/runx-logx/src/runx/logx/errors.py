"""The one exception type for mistakes in how logx is called."""


class LogxError(ValueError):
    """A user error in a logx call (e.g. a metric that is not a number)."""


class TrialPruned(Exception):
    """Raised by logx.metric(..., raise_on_prune=True) once runx's adaptive search has pruned the run."""
