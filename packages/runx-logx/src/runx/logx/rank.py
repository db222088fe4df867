"""Which distributed rank this process is: only rank 0 writes anything."""
from __future__ import annotations

import os

__all__ = ["rank_from_env"]


def rank_from_env() -> int:
    """RANK, then SLURM_PROCID, else 0."""
    for name in ("RANK", "SLURM_PROCID"):
        value = os.environ.get(name)
        if value is not None and value.strip().lstrip("-").isdigit():
            return int(value)
    return 0
