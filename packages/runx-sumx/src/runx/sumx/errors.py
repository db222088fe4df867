"""The one exception type for bad input to sumx."""


class SumxError(Exception):
    """A user error: printed as one line, exit 2."""
