"""The one exception type for mistakes in what a user wrote or typed."""


class RunxError(Exception):
    """A user error: printed as one line by the CLI, which then exits 2."""
