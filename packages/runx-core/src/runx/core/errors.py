"""The one exception type for mistakes in what a user wrote or typed, and the hint that goes with many."""

__all__ = ["RunxError", "did_you_mean"]


class RunxError(Exception):
    """A user error: printed as one line by the CLI, which then exits 2."""


def did_you_mean(word: str, choices) -> str:
    """` (did you mean 'x'?)` for a likely typo of one of `choices`, else ''."""
    import difflib  # only when something is misspelled

    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.7)
    return f" (did you mean {match[0]!r}?)" if match else ""
